/**
 * One whole document under one Redis key, beside a local copy: the HTTP cache of a run that keeps
 * its tokens in Redis, so that runners sharing the tokens share discovery too (one discovery request
 * for all of them, as one token request). What it holds is public (discovery documents) or a
 * provider's "wait" answer, keyed without secrets, so every client of the server may read it.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { JsonStore } from '../kernel/json-store.js'
import type { RedisLock } from './redis-lock.js'
import { heldLock, parseObject, reason, type RedisLink, withRedisLock } from './redis-link.js'

export interface RedisDocumentOptions {
  link: RedisLink
  /** The document's key; its lock is `<key>:lock`. */
  key: string
  /** How long the document lives after its last write. */
  ttlMs: number
  /** Kept as a copy of every write, and used alone once Redis cannot be reached. */
  fallback: JsonStore
  /** The lock's expiry, renewed while held; also its longest wait. */
  lockMs: number
  onWarning?: (message: string) => void
}

export function openRedisDocumentStore(options: RedisDocumentOptions): JsonStore {
  const { link, fallback, key } = options
  const warn = options.onWarning ?? (() => undefined)
  const held = new AsyncLocalStorage<RedisLock | 'local'>()

  /** The local copy; while Redis has the document, a failure here only costs the copy. */
  async function writeCopy(document: Record<string, unknown>, local: boolean): Promise<void> {
    try {
      await (local ? fallback.write(document) : fallback.withLock(() => fallback.write(document)))
    } catch (error) {
      if (link.fellBack) {
        throw error
      }
      warn(`could not keep the local copy of the Redis key ${key}: ${reason(error)}`)
    }
  }

  return {
    async read() {
      if (!link.fellBack) {
        try {
          const text = await (await link.connect()).get(key)
          return text === null ? undefined : parseObject(text)
        } catch (error) {
          link.fallBack(error)
        }
      }
      return fallback.read()
    },

    withLock<T>(fn: () => Promise<T>): Promise<T> {
      const lock = { key: `${key}:lock`, ttlMs: options.lockMs, waitMs: options.lockMs }
      return withRedisLock(link, held, fallback, lock, fn)
    },

    async write(document) {
      const lock = heldLock(held, link)
      if (!link.fellBack && lock !== 'local') {
        try {
          await (await link.connect()).set(key, JSON.stringify(document), 'PX', options.ttlMs)
        } catch (error) {
          link.fallBack(error)
        }
      }
      await writeCopy(document, lock === 'local')
    },

    close: () => link.close(),
  }
}
