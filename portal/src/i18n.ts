import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN.json'
import en from './locales/en.json'

export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]
const STORAGE_KEY = 'onestop.locale'

export type Messages = typeof zhCN

/** zh-CN unless the person chose English before (remembered in this browser). */
export function initialLocale(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): Locale {
  const saved = storage?.getItem(STORAGE_KEY)
  return saved === 'en' ? 'en' : 'zh-CN'
}

export function rememberLocale(locale: Locale,
  storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  storage?.setItem(STORAGE_KEY, locale)
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

export function makeI18n(locale: Locale = initialLocale()) {
  return createI18n<[Messages], Locale>({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': zhCN, en },
  })
}
