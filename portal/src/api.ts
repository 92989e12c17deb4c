// The one place the portal talks to the API. Every call goes to /api on the portal's own
// origin, so no CORS is needed and the CSP can say connect-src 'self'.

export const API_BASE = '/api'

/** An error answer of the API (`{"error": {"code", "message"}}`) or a lost connection. */
export class ApiError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly status: number,
    public readonly messageEn?: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export interface Department {
  code: string
  name: string
  name_en?: string
  online: boolean
  services: number
  online_services: number
}

export interface ServiceSummary {
  code: string
  name: string
  department: string
  department_name: string
  sector: string
  online: boolean
}

export interface ServicePage {
  items: ServiceSummary[]
  total: number
  next_cursor: string | null
}

export interface Standard {
  key: string
  label: string
  value: unknown
}

export interface NamedDepartment {
  code: string
  name: string
}

export interface Stage {
  departments: NamedDepartment[]
  working_days: number
}

export interface ServiceItem {
  code: string
  name: string
  department: NamedDepartment
  sector: string
  public_standards: Standard[]
  promised_days: number
  legal_days: number
  online: boolean
  routing: { model: string; stages: Stage[]; decider?: NamedDepartment; decider_days?: number }
}

export interface TrackTask {
  department: string
  department_name: string
  stage: number
  state: string
  due_date: string
  working_days_left: number
  clock: string
}

export interface TrackEntry {
  seq: number
  at: string
  event: string
  about?: string
  channel?: string
}

export interface TrackView {
  receipt: string
  status: string
  reason: string | null
  reason_text: string | null
  service_code: string
  received_at: string
  updated_at: string
  due_date: string | null
  timeline: TrackEntry[]
  tasks: TrackTask[]
}

type Fetch = typeof fetch

/** GET a JSON document from the API; throws {@link ApiError} on an error answer. */
export async function getJson<T>(path: string, params: Record<string, string | undefined> = {},
  fetcher: Fetch = fetch): Promise<T> {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') query.set(key, value)
  }
  const url = API_BASE + path + (query.size ? `?${query}` : '')
  let response: Response
  try {
    response = await fetcher(url, { headers: { Accept: 'application/json' } })
  } catch {
    throw new ApiError('NETWORK', '', 0)
  }
  let body: unknown = null
  try {
    body = await response.json()
  } catch {
    body = null
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string; message_en?: string } })
      ?.error
    throw new ApiError(error?.code ?? `HTTP_${response.status}`, error?.message ?? '',
      response.status, error?.message_en)
  }
  return body as T
}

export const api = {
  departments: (f?: Fetch) =>
    getJson<{ items: Department[]; total: number }>('/departments', {}, f),
  services: (p: { q?: string; department?: string; online?: boolean; limit?: number;
    cursor?: string }, f?: Fetch) =>
    getJson<ServicePage>('/services', {
      q: p.q, department: p.department, online: p.online ? 'true' : undefined,
      limit: p.limit?.toString(), cursor: p.cursor,
    }, f),
  service: (code: string, f?: Fetch) =>
    getJson<ServiceItem>(`/services/${encodeURIComponent(code)}`, {}, f),
  track: (receipt: string, code: string, f?: Fetch) =>
    getJson<TrackView>(`/track/${encodeURIComponent(receipt)}`, { code }, f),
}
