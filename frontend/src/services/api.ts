// Minimal JSON client for the DocuVault API. The SPA is served by the API's
// own origin, so every path is relative and the refresh cookie rides along.

export type FieldErrors = Record<string, string>

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: FieldErrors

  constructor(status: number, code: string, message: string, fields: FieldErrors = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
  }
}

const NETWORK_MESSAGE = 'Could not reach DocuVault. Check your connection and try again.'

function stringFields(value: unknown): FieldErrors {
  if (typeof value !== 'object' || value === null) return {}
  const fields: FieldErrors = {}
  for (const [key, message] of Object.entries(value)) {
    if (typeof message === 'string') fields[key] = message
  }
  return fields
}

/** An error body (`{code, message, fields?}`) as an ApiError; any other body gets a generic message. */
export function toApiError(status: number, body: unknown): ApiError {
  const { code, message, fields } = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: unknown
    message?: unknown
    fields?: unknown
  }
  return new ApiError(
    status,
    typeof code === 'string' ? code : 'unexpected_response',
    typeof message === 'string' && message !== ''
      ? message
      : `Something went wrong (HTTP ${status}). Please try again.`,
    stringFields(fields),
  )
}

/** The JSON in a body's text, or undefined when it is empty or not JSON. */
export function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

async function readJson(response: Response): Promise<unknown> {
  return parseJson(await response.text())
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface RequestOptions {
  /** An access token, sent as `Authorization: Bearer` (never in the URL). */
  accessToken?: string
  /** Marks a call to a cookie route (refresh, sign-out): the server's CSRF check needs it. */
  cookieRoute?: boolean
}

/** The header the server requires on routes that read the refresh cookie. */
export const CSRF_HEADER = 'X-DocuVault-CSRF'

/** Read your writes (EV-6): writes answer with a token, reads send the latest one back. */
export const CONSISTENCY_HEADER = 'X-Consistency-Token'
let latestConsistencyToken: string | null = null

export function consistencyToken(): string | null {
  return latestConsistencyToken
}

/** A token's order (`<transaction>.<position>`), or null when it is not one. */
function tokenOrder(token: string): [bigint, bigint] | null {
  const found = /^(\d+)\.(\d+)$/.exec(token.trim())
  return found ? [BigInt(found[1]!), BigInt(found[2]!)] : null
}

/**
 * Adopts a token learnt elsewhere (a live notice's), so the next reads reflect what it
 * stands for. Only a later one is taken: an older token would weaken read-your-writes.
 */
export function noteConsistencyToken(token: string) {
  const next = tokenOrder(token)
  if (next === null) return
  const current = latestConsistencyToken === null ? null : tokenOrder(latestConsistencyToken)
  if (current === null || next[0] > current[0] || (next[0] === current[0] && next[1] > current[1])) {
    latestConsistencyToken = token.trim()
  }
}

/**
 * How many times a read is sent again while the server has not caught up with its token
 * (503 `not_yet_consistent`: each try waits up to the server's consistency wait, then the
 * pause the answer asks for).
 */
export const CONSISTENCY_RETRIES = 10
/** The longest pause between two tries of a read, whatever `Retry-After` says. */
const MAX_CONSISTENCY_PAUSE_MS = 5_000

/** The pause a 503 asks for (`Retry-After`, in seconds), a second when it names none. */
function retryPause(response: Response): number {
  const seconds = Number(response.headers?.get('Retry-After') ?? '')
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_CONSISTENCY_PAUSE_MS) : 1000
}

async function notYetConsistent(response: Response): Promise<boolean> {
  if (response.status !== 503) return false
  const body = parseJson(await response.clone().text())
  return typeof body === 'object' && body !== null && (body as { code?: unknown }).code === 'not_yet_consistent'
}

/**
 * Sends one call and remembers the consistency token a write answers with (unless a
 * notice already brought a later one). A read the server has not caught up with is sent
 * again, with the latest token, after the pause it asks for.
 */
async function send(
  method: Method,
  path: string,
  headers: () => Record<string, string>,
  body?: string,
): Promise<Response> {
  for (let tries = 0; ; tries++) {
    let response: Response
    try {
      response = await fetch(path, { method, headers: headers(), body, credentials: 'same-origin' })
    } catch {
      throw new ApiError(0, 'network_error', NETWORK_MESSAGE)
    }
    const token = response.headers?.get(CONSISTENCY_HEADER)
    if (token) noteConsistencyToken(token)
    if (method !== 'GET' || tries >= CONSISTENCY_RETRIES || !(await notYetConsistent(response))) return response
    await new Promise((resolve) => setTimeout(resolve, retryPause(response)))
  }
}

function authHeaders(method: Method, options: RequestOptions, accept: string): Record<string, string> {
  const headers: Record<string, string> = { Accept: accept }
  if (options.accessToken) headers.Authorization = `Bearer ${options.accessToken}`
  if (method === 'GET' && latestConsistencyToken !== null) {
    headers[CONSISTENCY_HEADER] = latestConsistencyToken
  }
  return headers
}

export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const headers = () => {
    const headers = authHeaders(method, options, 'application/json')
    if (body !== undefined || options.cookieRoute) headers['Content-Type'] = 'application/json'
    if (options.cookieRoute) headers[CSRF_HEADER] = '1'
    return headers
  }
  if (options.cookieRoute && body === undefined) body = {}

  const response = await send(method, path, headers, body === undefined ? undefined : JSON.stringify(body))
  const data = await readJson(response)
  if (!response.ok) throw toApiError(response.status, data)
  return data as T
}

/** A file's bytes as the API sent them. */
export interface Bytes {
  data: ArrayBuffer
  contentType: string
}

/**
 * GETs bytes rather than JSON (a document's content). The token goes in the
 * Authorization header, like every other call: never in the URL.
 */
export async function requestBytes(path: string, options: RequestOptions = {}): Promise<Bytes> {
  const response = await send('GET', path, () => authHeaders('GET', options, '*/*'))
  if (!response.ok) throw toApiError(response.status, await readJson(response))
  return { data: await response.arrayBuffer(), contentType: response.headers.get('Content-Type') ?? '' }
}

export interface RegisterRequest {
  email: string
  handle: string
  password: string
  /** An invitation's token, when registering by invitation. */
  invite?: string
}

export interface RegisterResponse {
  message: string
}

export interface HandleAvailability {
  handle: string
  available: boolean
}

export function register(input: RegisterRequest): Promise<RegisterResponse> {
  return request<RegisterResponse>('POST', '/api/auth/register', input)
}

export function registrationOpen(): Promise<{ open: boolean }> {
  return request<{ open: boolean }>('GET', '/api/auth/registration')
}

export function checkHandle(handle: string): Promise<HandleAvailability> {
  return request<HandleAvailability>('GET', `/api/handles/${encodeURIComponent(handle)}`)
}

export interface AccessTokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  user_id: string
  role: 'user' | 'admin'
}

export interface SecondFactorRequired {
  second_factor_required: true
  second_step_token: string
  expires_in: number
}

export interface Me {
  user_id: string
  handle: string
  email: string | null
  role: 'user' | 'admin'
  display_name: string | null
  second_factor: boolean
}

export interface SecondFactorSetup {
  secret: string
  otpauth_uri: string
  qr: { size: number; rows: string[] }
}

export interface RecoveryCodes {
  recovery_codes: string[]
}

export interface SessionView {
  session_id: string
  current: boolean
  created_at: string
  last_used_at: string
  expires_at: string
  ended_at: string | null
  end_reason: string | null
  user_agent: string
}

export interface SessionList {
  sessions: SessionView[]
  reuse_detected: boolean
}

export interface AdminUser {
  user_id: string
  handle: string
  email: string | null
  role: 'user' | 'admin'
  registered_at: string
  disabled: boolean
  second_factor: boolean
  quota_bytes: number | null
  ai_provider: string | null
  ai_model: string | null
}

export interface UserPage {
  users: AdminUser[]
  total: number
  page: number
  per_page: number
}

export interface AuditEntry {
  position: number
  event_id: string
  recorded_at: string
  event_type: string
  aggregate_type: string
  aggregate_id: string
  actor: string
  actor_handle: string | null
  target_id: string | null
  target_handle: string | null
  correlation_id: string
  details: Record<string, unknown>
}

export interface AuditPage {
  entries: AuditEntry[]
  next_before: number | null
}
