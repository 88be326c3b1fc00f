// Topics (docs/api/documents.md, "Topics", ORG-2, ADM-2): everyone sees the system topics
// and their own; people manage their own, administrators the system ones. A document's
// topics are set as a whole.

import { ApiError } from './api'
import type { VaultDocument } from './documents'
import { authorized } from './session'

export interface Topic {
  id: string
  name: string
  /** A system topic, managed by administrators and seen by everyone. */
  system: boolean
  /** How many of this person's documents have it. */
  documents: number
  created_at: string
}

/** The most topics one document can have. */
export const MAX_TOPICS_PER_DOCUMENT = 32

/** The longest topic name the server takes, in characters. */
export const MAX_TOPIC_NAME = 64

function topicPath(base: string, id: string): string {
  return `${base}/${encodeURIComponent(id)}`
}

/** The system topics, then this person's, each by name. */
export async function listTopics(): Promise<Topic[]> {
  return (await authorized<{ items: Topic[] }>('GET', '/api/topics')).items
}

/** 409 `topic_name_taken` when one of this person's topics has the name, whatever the case. */
export function createTopic(name: string): Promise<Topic> {
  return authorized<Topic>('POST', '/api/topics', { name })
}

export function renameTopic(id: string, name: string): Promise<void> {
  return authorized<void>('PATCH', topicPath('/api/topics', id), { name })
}

/** Takes it off every document that had it, too. */
export function deleteTopic(id: string): Promise<void> {
  return authorized<void>('DELETE', topicPath('/api/topics', id))
}

/** Sets all of a document's topics at once (at most 32). */
export function setDocumentTopics(documentId: string, topics: readonly string[]): Promise<VaultDocument> {
  return authorized<VaultDocument>('PUT', `/api/documents/${encodeURIComponent(documentId)}/topics`, {
    topics: [...topics],
  })
}

/** Administrators: the system topics. */
export async function listSystemTopics(): Promise<Topic[]> {
  return (await authorized<{ items: Topic[] }>('GET', '/api/admin/topics')).items
}

export function createSystemTopic(name: string): Promise<Topic> {
  return authorized<Topic>('POST', '/api/admin/topics', { name })
}

export function renameSystemTopic(id: string, name: string): Promise<void> {
  return authorized<void>('PATCH', topicPath('/api/admin/topics', id), { name })
}

export function deleteSystemTopic(id: string): Promise<void> {
  return authorized<void>('DELETE', topicPath('/api/admin/topics', id))
}

/** Checks a topic name as the server would, before sending it. */
export function validateTopicName(raw: string): string | undefined {
  const name = raw.trim().replace(/\s+/g, ' ')
  if (name === '') return 'Enter a name for the topic.'
  if (Array.from(name).length > MAX_TOPIC_NAME) return `Use at most ${MAX_TOPIC_NAME} characters.`
  return undefined
}

/** What to say next to a topic name the server refused. */
export function topicNameError(failure: unknown): string {
  if (!(failure instanceof ApiError)) return 'Something went wrong. Please try again.'
  if (failure.code === 'topic_name_taken') return 'There is a topic with this name already.'
  return failure.fields.name ?? failure.message
}
