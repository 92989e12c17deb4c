import { describe, expect, it, vi } from 'vitest'
import { ApiError, api, getJson } from '../src/api'
import { plainError } from '../src/errors'

function answer(status: number, body: unknown) {
  return vi.fn(async () => new Response(JSON.stringify(body), { status }))
}

describe('getJson', () => {
  it('calls the API under /api on the same origin with the query', async () => {
    const fetcher = answer(200, { items: [], total: 0, next_cursor: null })
    await api.services({ q: '营业执照', online: true }, fetcher as never)
    const url = (fetcher.mock.calls[0] as unknown[])[0] as string
    expect(url.startsWith('/api/services?')).toBe(true)
    const query = new URLSearchParams(url.split('?')[1])
    expect(query.get('q')).toBe('营业执照')
    expect(query.get('online')).toBe('true')
    expect(query.has('department')).toBe(false)
  })

  it('turns the contract error body into an ApiError', async () => {
    const fetcher = answer(404, { error: { code: 'UNKNOWN_SERVICE', message: '办理事项不存在',
      message_en: 'no such service item' } })
    const error = await getJson('/services/x', {}, fetcher as never).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.code).toBe('UNKNOWN_SERVICE')
    expect(error.status).toBe(404)
    expect(error.message).toBe('办理事项不存在')
  })

  it('reports a lost connection as NETWORK', async () => {
    const fetcher = vi.fn(async () => { throw new TypeError('Failed to fetch') })
    const error = await getJson('/departments', {}, fetcher as never).catch((e) => e)
    expect(error.code).toBe('NETWORK')
  })

  it('encodes the receipt and the tracking code', async () => {
    const fetcher = answer(200, {})
    await api.track('R 1/2', 'A&B', fetcher as never)
    expect((fetcher.mock.calls[0] as unknown[])[0]).toBe('/api/track/R%201%2F2?code=A%26B')
  })
})

describe('plainError', () => {
  const t = (key: string, values?: Record<string, unknown>) => `${key}${values ? JSON.stringify(values) : ''}`
  it('shows the API message in Chinese, and its English one in English', () => {
    const error = new ApiError('UNKNOWN_SERVICE', '办理事项不存在', 404, 'no such service item')
    expect(plainError(error, 'zh-CN', t)).toBe('办理事项不存在')
    expect(plainError(error, 'en', t)).toBe('no such service item')
  })
  it('falls back to our own words', () => {
    expect(plainError(new ApiError('NETWORK', '', 0), 'zh-CN', t)).toBe('errors.network')
    expect(plainError(new ApiError('HTTP_502', '', 502), 'zh-CN', t)).toContain('HTTP_502')
  })
})
