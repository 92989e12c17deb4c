import { ApiError } from './api'

type Translate = (key: string, values?: Record<string, unknown>) => string

/** An error in plain words: the API's own message in the reader's language, else ours. */
export function plainError(error: unknown, locale: string, t: Translate): string {
  if (error instanceof ApiError) {
    if (error.code === 'NETWORK') return t('errors.network')
    const own = locale === 'en' ? error.messageEn || error.message : error.message
    if (own) return own
    return t('errors.generic', { code: error.code })
  }
  return t('errors.generic', { code: 'UNKNOWN' })
}
