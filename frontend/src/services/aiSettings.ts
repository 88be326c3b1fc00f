// Where the LLM classifiers are (AI-2, SECURITY 22), for administrators: each provider's
// endpoint and API key, and the non-public networks outbound calls may reach. A key goes
// in and never comes out: the server says only whether one is set.

import { authorized } from './session'

export type LlmProvider = 'ollama' | 'openai_compatible'

/** Who set the endpoint in use: admins here, the server's configuration, or nobody. */
export type EndpointSource = 'admin' | 'server' | null

export interface AiProviderSettings {
  provider: LlmProvider
  /** The endpoint in use, null when there is none. */
  endpoint: string | null
  /** Whether an API key is set; the key itself is never returned. */
  api_key_set: boolean
  source: EndpointSource
}

export interface AiSettings {
  providers: AiProviderSettings[]
  /** Non-public addresses or networks admins allow outbound calls to reach. */
  allow: string[]
  /** Whether admins allow plain http (a LAN server without TLS). */
  allow_http: boolean
  /** What the server's configuration allows besides; read-only here. */
  server_allow: string[]
  server_allow_http: boolean
}

export interface EndpointChange {
  endpoint: string
  /** A new key; leave out to keep the stored one. */
  api_key?: string
  /** Remove the stored key (never together with `api_key`). */
  remove_api_key?: boolean
}

function providerPath(provider: string): string {
  return `/api/admin/ai/providers/${encodeURIComponent(provider)}`
}

export function getAiSettings(): Promise<AiSettings> {
  return authorized<AiSettings>('GET', '/api/admin/ai')
}

/**
 * Stores a provider's endpoint (vetted by the server on save: 400 with `fields.endpoint`
 * when outbound calls may not reach it) and, optionally, changes its key.
 */
export function setProviderEndpoint(provider: string, change: EndpointChange): Promise<void> {
  return authorized<void>('PUT', providerPath(provider), change)
}

/** Forgets the stored endpoint and key: the server's own setting, if any, applies again. */
export function removeProviderEndpoint(provider: string): Promise<void> {
  return authorized<void>('DELETE', providerPath(provider))
}

/** Replaces the allow-list (400 with `fields.allow` for an entry that is not a network). */
export function setOutbound(allow: string[], allowHttp: boolean): Promise<void> {
  return authorized<void>('PUT', '/api/admin/ai/outbound', { allow, allow_http: allowHttp })
}
