/**
 * One whole document under one Redis key, beside a local copy: the HTTP cache of a run that keeps
 * its tokens in Redis, so that runners sharing the tokens share discovery too (one discovery request
 * for all of them, as one token request). What it holds is public (discovery documents) or a
 * provider's "wait" answer, keyed without secrets, so every client of the server may read it.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { JsonStore } from '../kernel/json-store.js'
import type { RedisLock } from './redis-lock.js'
import {
  getBounded,
  heldLock,
  isKeyProblem,
  parseObject,
  reason,
  type RedisLink,
  withRedisLock,
} from './redis-link.js'

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
  /** What of a document may go through Redis, and how what came from it joins the local copy. */
  share?: {
    select(document: Record<string, unknown>): Record<string, unknown> | undefined
    merge(
      shared: Record<string, unknown> | undefined,
      local: Record<string, unknown> | undefined,
    ): Record<string, unknown> | undefined
  }
}

export function openRedisDocumentStore(options: RedisDocumentOptions): JsonStore {
  const { link, fallback, key } = options
  const warn = options.onWarning ?? (() => undefined)
  const held = new AsyncLocalStorage<RedisLock | 'local'>()
  /** Set once the key itself proved unusable: only this document goes local, the tokens stay shared. */
  let keyUnusable = false
  const shared = () => !keyUnusable && !link.fellBack

  function giveUp(error: unknown): void {
    if (!isKeyProblem(error)) {
      link.fallBack(error)
    } else if (!keyUnusable) {
      keyUnusable = true
      warn(`the Redis key ${key} is not usable (${reason(error)}); using the local copy instead`)
    }
  }

  async function readRedis(): Promise<Record<string, unknown> | undefined | 'unusable'> {
    if (shared()) {
      try {
        const [text] = await getBounded(await link.connect(), [key])
        return text == null ? undefined : parseObject(text)
      } catch (error) {
        giveUp(error)
      }
    }
    return 'unusable'
  }

  /** The local copy; while Redis has the document, a failure here only costs the copy. */
  async function writeCopy(document: Record<string, unknown>, local: boolean): Promise<void> {
    try {
      await (local ? fallback.write(document) : fallback.withLock(() => fallback.write(document)))
    } catch (error) {
      if (!shared()) {
        throw error
      }
      warn(`could not keep the local copy of the Redis key ${key}: ${reason(error)}`)
    }
  }

  return {
    async read() {
      const remote = await readRedis()
      if (remote === 'unusable') {
        return fallback.read()
      }
      const { share } = options
      return share === undefined
        ? remote
        : share.merge(remote && share.select(remote), await fallback.read())
    },

    withLock<T>(fn: () => Promise<T>): Promise<T> {
      const lock = { key: `${key}:lock`, ttlMs: options.lockMs, waitMs: options.lockMs }
      return shared()
        ? withRedisLock(link, held, fallback, lock, fn)
        : fallback.withLock(() => held.run('local', fn))
    },

    async write(document) {
      const lock = heldLock(held, link)
      if (shared() && lock !== 'local') {
        try {
          const shared = options.share?.select(document) ?? document
          await (await link.connect()).set(key, JSON.stringify(shared), 'PX', options.ttlMs)
        } catch (error) {
          giveUp(error)
        }
      }
      await writeCopy(document, lock === 'local')
    },

    close: () => link.close(),
  }
}
