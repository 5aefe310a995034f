/**
 * The token cache kept in Redis, shared by every process and machine that points at the same
 * server: partitioned as MSAL's distributed cache is (redis-partitions.ts), locked across machines
 * (redis-lock.ts, redis-semaphore's Mutex), each key expiring with the tokens it holds.
 *
 * A local store stands beside it: every write is copied there, and the moment Redis cannot be
 * reached the run carries on with the local store alone (redis-link.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { type Clock, systemClock } from '../kernel/clock.js'
import { RuntimeFailure } from '../kernel/errors.js'
import type { JsonStore } from '../kernel/json-store.js'
import type { RedisLock } from './redis-lock.js'
import {
  boundedTexts,
  openRedisLink,
  parseObject,
  readBounded,
  reason,
  type RedisLink,
  type RedisTarget,
  withRedisLock,
  heldLock,
} from './redis-link.js'
import { mergePartitions, partitionKeys, splitDocument } from './redis-partitions.js'

export type { RedisTarget } from './redis-link.js'

export interface RedisStoreOptions {
  target: RedisTarget
  clientId: string
  /** The authority's tenant as configured: app tokens are partitioned by it. */
  tenant: string
  /** The local cache: kept as a copy of every write, and used alone when Redis cannot be reached. */
  fallback: JsonStore
  /** Bounds connecting and every command; also the lock's expiry. */
  timeoutMs: number
  /** Extra CA certificates for rediss://, as for HTTPS. */
  caFile?: string
  insecure?: boolean
  onWarning?: (message: string) => void
  /** Longest wait for the lock. Default 60_000. */
  lockWaitMs?: number
  clock?: Clock
  /** The connection shared with the run's other Redis stores; by default one of its own. */
  link?: RedisLink
}

const defaultLockWaitMs = 60_000

/**
 * Writes the changed partitions and keeps the account index in step, only while the caller still
 * holds the lock. KEYS: lock, index, partitions...; ARGV: lock token, index ttl, then per partition
 * its JSON, its ttl in ms (0 deletes it) and its account ('' for the app partition).
 */
const writeScript = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
for i = 3, #KEYS do
  local at = (i - 3) * 3 + 3
  local ttl = tonumber(ARGV[at + 1])
  if ttl > 0 then
    redis.call('SET', KEYS[i], ARGV[at], 'PX', ttl)
    if ARGV[at + 2] ~= '' then redis.call('SADD', KEYS[2], ARGV[at + 2]) end
  else
    redis.call('DEL', KEYS[i])
    if ARGV[at + 2] ~= '' then redis.call('SREM', KEYS[2], ARGV[at + 2]) end
  end
end
local indexTtl = tonumber(ARGV[2])
if indexTtl > 0 and redis.call('EXISTS', KEYS[2]) == 1 and redis.call('PTTL', KEYS[2]) < indexTtl then
  redis.call('PEXPIRE', KEYS[2], indexTtl)
end
return 1`

export function openRedisStore(options: RedisStoreOptions): JsonStore & { close(): Promise<void> } {
  const keys = partitionKeys(options.clientId, options.tenant)
  const clock = options.clock ?? systemClock
  const warn = options.onWarning ?? (() => undefined)
  const fallback = options.fallback
  const link = options.link ?? openRedisLink(options)
  /** The lock the current async context holds: Redis's, or the local store's once fallen back. */
  const held = new AsyncLocalStorage<RedisLock | 'local'>()
  /**
   * What each key held at the last read (null: named by the index but gone), so a write sends only
   * changes; account is '' for the app partition.
   */
  let seen = new Map<string, { text: string | null; account: string }>()

  async function readRedis(): Promise<Record<string, unknown> | undefined> {
    const redis = await link.connect()
    // The account index and the app partition in one round trip; the user partitions it names follow.
    const [accounts, appValue] = await Promise.all([
      redis.smembers(keys.users),
      readBounded(redis, [keys.app]),
    ])
    accounts.sort()
    const userKeys = accounts.map((id) => keys.user(id))
    const userValues = await readBounded(redis, userKeys)
    const [app, ...users] = boundedTexts([keys.app, ...userKeys], [...appValue, ...userValues])
    seen = new Map([[keys.app, { text: app ?? null, account: '' }]])
    accounts.forEach((account, i) =>
      seen.set(keys.user(account), { text: users[i] ?? null, account }),
    )
    const documents: Record<string, unknown>[] = []
    for (const [key, { text }] of seen) {
      const document = text === null ? undefined : parseObject(text)
      if (document === undefined && text !== null) {
        warn(`the Redis key ${key} is not a JSON object; ignoring it (the next write replaces it)`)
      }
      if (document !== undefined) {
        documents.push(document)
      }
    }
    return documents.length > 0 ? mergePartitions(documents) : undefined
  }

  async function writeRedis(lock: RedisLock, document: Record<string, unknown>): Promise<void> {
    const partitions = splitDocument(document, keys, clock())
    const writes: { key: string; text: string; ttlMs: number; account: string }[] = []
    const next: typeof seen = new Map()
    for (const [key, partition] of partitions) {
      const text = JSON.stringify(partition.document)
      const ttlMs = Math.max(0, partition.ttlSeconds * 1000)
      const account = partition.account ?? ''
      next.set(key, { text, account })
      if (seen.get(key)?.text !== text || ttlMs === 0) {
        writes.push({ key, text, ttlMs, account })
      }
    }
    for (const [key, { text, account }] of seen) {
      if (!partitions.has(key) && (text !== null || account !== '')) {
        writes.push({ key, text: '', ttlMs: 0, account })
      }
    }
    if (writes.length === 0) {
      return
    }
    const indexTtl = Math.max(0, ...writes.filter((w) => w.account !== '').map((w) => w.ttlMs))
    const redis = await link.connect()
    const written = await redis.eval(
      writeScript,
      writes.length + 2,
      lock.key,
      keys.users,
      ...writes.map((w) => w.key),
      lock.token,
      indexTtl,
      ...writes.flatMap((w) => [w.text, w.ttlMs, w.account]),
    )
    if (written === 0) {
      throw lockLost()
    }
    seen = next
  }

  /** The local copy; while Redis has the cache, a failure here only costs the copy. */
  async function writeFallback(document: Record<string, unknown>): Promise<void> {
    try {
      await (held.getStore() === 'local'
        ? fallback.write(document)
        : fallback.withLock(() => fallback.write(document)))
    } catch (error) {
      if (link.fellBack) {
        throw error
      }
      warn(`could not keep the local copy of the Redis cache: ${reason(error)}`)
    }
  }

  function lockLost(): RuntimeFailure {
    return new RuntimeFailure(
      'cache_lock_lost',
      `lost the Redis lock ${keys.lock} (it expired and another process took it); the cache was not written`,
    )
  }

  return {
    async read() {
      if (!link.fellBack) {
        try {
          return await readRedis()
        } catch (error) {
          link.fallBack(error)
        }
      }
      return fallback.read()
    },

    withLock<T>(fn: () => Promise<T>): Promise<T> {
      const lock = {
        key: keys.lock,
        ttlMs: Math.max(1000, options.timeoutMs),
        waitMs: options.lockWaitMs ?? defaultLockWaitMs,
      }
      return withRedisLock(link, held, fallback, lock, fn)
    },

    async write(document) {
      const lock = heldLock(held, link)
      if (!link.fellBack && lock !== 'local') {
        if (lock.lost) {
          throw lockLost()
        }
        try {
          await writeRedis(lock, document)
        } catch (error) {
          link.fallBack(error)
        }
      }
      await writeFallback(document)
    },

    close: () => link.close(),
  }
}
