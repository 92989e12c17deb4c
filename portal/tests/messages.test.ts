import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import zhCN from '../src/locales/zh-CN.json'
import en from '../src/locales/en.json'
import { initialLocale } from '../src/i18n'

function keys(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`])
}

describe('message files', () => {
  it('English has exactly the keys of zh-CN', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })

  it('every key a component uses exists', () => {
    const src = join(__dirname, '..', 'src')
    const files = [...readdirSync(join(src, 'views')).map((f) => join(src, 'views', f)),
      ...readdirSync(join(src, 'components')).map((f) => join(src, 'components', f)),
      join(src, 'App.vue'), join(src, 'errors.ts')]
    const known = new Set(keys(zhCN))
    for (const file of files) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\('([a-zA-Z.]+)'/g)) {
        expect(known, `${file}: ${match[1]}`).toContain(match[1])
      }
    }
  })

  it('no Chinese text is hard-coded in the components', () => {
    const src = join(__dirname, '..', 'src')
    for (const dir of ['views', 'components']) {
      for (const f of readdirSync(join(src, dir))) {
        const text = readFileSync(join(src, dir, f), 'utf8').replace(/<!--[\s\S]*?-->/g, '')
          .replace(/\/\/.*$/gm, '')
        // Full-width brackets around a message are punctuation, not text.
        expect(text.replace(/[（）]/g, ''), f).not.toMatch(/[\u4e00-\u9fff]/)
      }
    }
  })

  it('starts in zh-CN and remembers English', () => {
    expect(initialLocale({ getItem: () => null })).toBe('zh-CN')
    expect(initialLocale({ getItem: () => 'en' })).toBe('en')
  })
})
