// A component's part in the live notices (services/live.ts): it listens while mounted,
// and stops listening when it goes away.

import { onUnmounted } from 'vue'
import { live, type LiveConnection, type NoticeHandler, type ResyncHandler } from '../services/live'

export interface LiveHandlers {
  notice?: NoticeHandler
  /** Notices may have been missed: read the lists again. */
  resync?: ResyncHandler
}

/** Subscribes `handlers` for the calling component's lifetime (call it during setup). */
export function useLive(handlers: LiveHandlers, connection: LiveConnection = live): void {
  const unsubscribe: Array<() => void> = []
  if (handlers.notice) unsubscribe.push(connection.onNotice(handlers.notice))
  if (handlers.resync) unsubscribe.push(connection.onResync(handlers.resync))
  onUnmounted(() => {
    for (const off of unsubscribe) off()
  })
}
