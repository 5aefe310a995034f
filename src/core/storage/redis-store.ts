/**
 * The token cache kept in Redis, shared by every process and machine that points at the same
 * server: partitioned as MSAL's distributed cache is (redis-partitions.ts), locked across machines
 * (redis-lock.ts, redis-semaphore's Mutex), each key expiring with the tokens it holds.
 *
 * A local store stands beside it: every write is copied there, and the moment Redis cannot be
 * reached (refused, timed out, gone mid-run) the run warns once and carries on with the local
 * store alone. ioredis is loaded on first use only, so runs without Redis never pay for it.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Redis, RedisOptions } from 'ioredis'
import { readCaFile } from '../http/ca-file.js'
import { type Clock, systemClock } from '../kernel/clock.js'
import { MsalTsError, RuntimeFailure } from '../kernel/errors.js'
import type { JsonStore } from '../kernel/json-store.js'
import { acquireLock, type RedisLock } from './redis-lock.js'
import { mergePartitions, partitionKeys, splitDocument } from './redis-partitions.js'

export interface RedisTarget {
  host: string
  port: number
  db: number
  tls: boolean
  username?: string
  password?: string
}

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
  const where = `${options.target.tls ? 'rediss' : 'redis'}://${options.target.host}:${options.target.port}/${options.target.db}`
  /** The lock the current async context holds: Redis's, or the local store's once fallen back. */
  const held = new AsyncLocalStorage<RedisLock | 'local'>()
  let connection: Promise<Redis> | undefined
  let fellBack = false
  /** What the connection last reported: a command only learns that the connection is closed. */
  let socketError: Error | undefined
  /**
   * What each key held at the last read (null: named by the index but gone), so a write sends only
   * changes; account is '' for the app partition.
   */
  let seen = new Map<string, { text: string | null; account: string }>()

  function connect(): Promise<Redis> {
    connection ??= (async () => {
      const [{ Redis }, { rootCertificates }] = await Promise.all([
        import('ioredis'),
        import('node:tls'),
      ])
      const redis = new Redis(clientOptions(options, rootCertificates))
      // Without a listener ioredis prints the error itself.
      redis.on('error', (error: Error) => {
        socketError = error
      })
      // A server that accepts the connection but never answers (AUTH pending) is bounded here.
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          redis.disconnect()
          reject(new Error(`no answer within ${options.timeoutMs / 1000}s`))
        }, options.timeoutMs)
      })
      await Promise.race([redis.connect(), deadline]).finally(() => clearTimeout(timer))
      // An idle connection must not keep the process alive; pending commands have their own timer.
      redis.stream.unref()
      return redis
    })()
    return connection
  }

  /** The first failure to talk to Redis switches the run to the local store, with one warning. */
  function fallBack(error: unknown): void {
    if (error instanceof MsalTsError) {
      throw error
    }
    if (!fellBack) {
      fellBack = true
      warn(
        `the Redis cache at ${where} is not usable (${reason(socketError ?? error)}); using the local cache file instead`,
      )
      void close()
    }
  }

  async function readRedis(): Promise<Record<string, unknown> | undefined> {
    const redis = await connect()
    const [app, accounts] = await Promise.all([redis.get(keys.app), redis.smembers(keys.users)])
    accounts.sort()
    const users = accounts.length > 0 ? await redis.mget(accounts.map((id) => keys.user(id))) : []
    seen = new Map([[keys.app, { text: app, account: '' }]])
    accounts.forEach((account, i) =>
      seen.set(keys.user(account), { text: users[i] ?? null, account }),
    )
    const documents: Record<string, unknown>[] = []
    for (const [key, { text }] of seen) {
      const document = text === null ? undefined : parse(text)
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
    const redis = await connect()
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
      if (fellBack) {
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

  async function close(): Promise<void> {
    const redis = connection
    connection = undefined
    await redis?.then((client) => client.disconnect()).catch(() => undefined)
  }

  return {
    async read() {
      if (!fellBack) {
        try {
          return await readRedis()
        } catch (error) {
          fallBack(error)
        }
      }
      return fallback.read()
    },

    async withLock<T>(fn: () => Promise<T>): Promise<T> {
      if (held.getStore() !== undefined) {
        return fn()
      }
      let lock: RedisLock | undefined
      if (!fellBack) {
        try {
          lock = await acquireLock(await connect(), {
            key: keys.lock,
            ttlMs: Math.max(1000, options.timeoutMs),
            waitMs: options.lockWaitMs ?? defaultLockWaitMs,
          })
        } catch (error) {
          fallBack(error)
        }
      }
      if (lock === undefined) {
        return fallback.withLock(() => held.run('local', fn))
      }
      try {
        return await held.run(lock, fn)
      } finally {
        await lock.release()
      }
    },

    async write(document) {
      const lock = held.getStore()
      if (lock === undefined) {
        throw new RuntimeFailure(
          'cache_not_locked',
          `internal error: wrote ${where} without its lock`,
        )
      }
      if (!fellBack && lock !== 'local') {
        if (lock.lost) {
          throw lockLost()
        }
        try {
          await writeRedis(lock, document)
        } catch (error) {
          fallBack(error)
        }
      }
      await writeFallback(document)
    },

    close,
  }
}

function clientOptions(
  options: RedisStoreOptions,
  rootCertificates: readonly string[],
): RedisOptions {
  const { target, timeoutMs } = options
  const ca = options.caFile === undefined ? undefined : readCaFile(options.caFile)
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.tls
      ? {
          tls: {
            ...(ca !== undefined ? { ca: [...rootCertificates, ca] } : {}),
            ...(options.insecure ? { rejectUnauthorized: false } : {}),
          },
        }
      : {}),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // One attempt: a Redis that is down is a reason to fall back, not to wait.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // Nothing before the first real command (no HELLO, INFO, CLIENT SETINFO or SETNAME): fewer
    // round trips, and none that could wait a whole timeout on a server that does not answer.
    protocol: 2,
    enableReadyCheck: false,
    disableClientInfo: true,
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? message
}
