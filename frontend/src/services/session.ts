// The signed-in session, as the SPA holds it (AUTH-2, AUTH-3).
//
// - The access token lives in this module's memory only: never in localStorage,
//   sessionStorage or a cookie, so a reload or a new tab starts by refreshing.
// - The refresh token is an HttpOnly cookie the SPA never sees; `refresh()` trades it
//   for a new access token and a new cookie.
// - A refresh token works once: two tabs refreshing with the same cookie would look
//   like theft and end the session. Refreshes are therefore serialised within a tab
//   (one promise in flight) and across tabs (a Web Lock), and each runs with whatever
//   cookie the browser holds once the lock is granted.

import { reactive, readonly } from 'vue'
import {
  ApiError,
  request,
  requestBytes,
  type AccessTokenResponse,
  type Bytes,
  type SecondFactorRequired,
  type Method,
  type RequestOptions,
} from './api'

interface SessionState {
  accessToken: string | null
  userId: string | null
  role: 'user' | 'admin' | null
  /** Whether a first refresh has been attempted since the page loaded. */
  restored: boolean
}

const state = reactive<SessionState>({ accessToken: null, userId: null, role: null, restored: false })

export const session = readonly(state)

const LOCK_NAME = 'docuvault-refresh'

let inFlight: Promise<boolean> | null = null

function adopt(tokens: AccessTokenResponse) {
  state.accessToken = tokens.access_token
  state.userId = tokens.user_id
  state.role = tokens.role
}

/**
 * Takes over the session a change started: changing the password or the second factor
 * ends every session, this one included, and answers with a fresh access token (the new
 * refresh cookie comes with it).
 */
export function replaceAccessToken(accessToken: string) {
  state.accessToken = accessToken
}

export function forget() {
  state.accessToken = null
  state.userId = null
  state.role = null
}

async function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
  if (locks === undefined) return work()
  return locks.request(LOCK_NAME, work)
}

/** Trades the refresh cookie for a new access token; false when there is no session. */
export function refresh(): Promise<boolean> {
  if (inFlight) return inFlight
  inFlight = withRefreshLock(async () => {
    try {
      adopt(await request<AccessTokenResponse>('POST', '/api/auth/refresh', undefined, { cookieRoute: true }))
      return true
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        forget()
        return false
      }
      throw error
    } finally {
      state.restored = true
    }
  }).finally(() => {
    inFlight = null
  })
  return inFlight
}

/** Restores the session once per page load (a reload keeps people signed in). */
export async function restore(): Promise<boolean> {
  if (state.restored) return state.accessToken !== null
  try {
    return await refresh()
  } catch {
    state.restored = true
    return false
  }
}

/** What a correct password leads to: signed in, or a second step with this token. */
export type SignInResult = { signedIn: true } | { signedIn: false; secondStepToken: string }

export async function signIn(email: string, password: string): Promise<SignInResult> {
  const reply = await request<AccessTokenResponse | SecondFactorRequired>('POST', '/api/auth/login', {
    email,
    password,
  })
  if ('second_factor_required' in reply) {
    return { signedIn: false, secondStepToken: reply.second_step_token }
  }
  adopt(reply)
  state.restored = true
  return { signedIn: true }
}

/** The second step of a sign-in: a code from the app, or a recovery code. */
export async function completeSignIn(
  secondStepToken: string,
  proof: { code: string } | { recovery_code: string },
): Promise<void> {
  adopt(
    await request<AccessTokenResponse>('POST', '/api/auth/login/second-factor', {
      second_step_token: secondStepToken,
      ...proof,
    }),
  )
  state.restored = true
}

async function cookieCall(path: string) {
  try {
    await request<void>('POST', path, undefined, { cookieRoute: true })
  } finally {
    forget()
  }
}

export function signOut(): Promise<void> {
  return cookieCall('/api/auth/logout')
}

export function signOutEverywhere(): Promise<void> {
  return cookieCall('/api/auth/logout-all')
}

/**
 * Runs a call as the signed-in person. An expired access token is refreshed once and the
 * call retried; a refused refresh signs the SPA out.
 */
async function asSignedIn<T>(call: (options: RequestOptions) => Promise<T>): Promise<T> {
  if (state.accessToken === null && !(await restore())) {
    throw new ApiError(401, 'unauthorized', 'Sign in to continue.')
  }
  const attempt = () => call({ accessToken: state.accessToken ?? undefined })
  try {
    return await attempt()
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error
    if (!(await refresh())) throw error
    return attempt()
  }
}

/** A JSON request as the signed-in person. */
export function authorized<T>(method: Method, path: string, body?: unknown): Promise<T> {
  return asSignedIn((options) => request<T>(method, path, body, options))
}

/** A GET for bytes (a document's content) as the signed-in person. */
export function authorizedBytes(path: string): Promise<Bytes> {
  return asSignedIn((options) => requestBytes(path, options))
}
