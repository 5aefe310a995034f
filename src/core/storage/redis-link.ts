/**
 * What the Redis stores of one run share: one connection, opened on first use, and one switch to
 * the local caches. The first failure to talk to Redis (refused, timed out, gone mid-run) warns once
 * and sends every store of the run to its local copy. ioredis is loaded on first use only, so runs
 * without Redis never pay for it.
 */
import type { AsyncLocalStorage } from 'node:async_hooks'
import type { Redis, RedisOptions } from 'ioredis'
import { readCaFile } from '../http/ca-file.js'
import { MsalTsError, RuntimeFailure } from '../kernel/errors.js'
import { maxCacheBytes } from '../kernel/safe-file.js'
import type { JsonStore } from '../kernel/json-store.js'
import { acquireLock, type LockOptions, type RedisLock } from './redis-lock.js'

export interface RedisTarget {
  host: string
  port: number
  db: number
  tls: boolean
  username?: string
  password?: string
}

export interface RedisLinkOptions {
  target: RedisTarget
  /** Bounds connecting and every command. */
  timeoutMs: number
  /** Extra CA certificates for rediss://, as for HTTPS. */
  caFile?: string
  /** What caFile holds, when the caller has read and checked it already: it is not read again. */
  checkedCa?: string
  insecure?: boolean
  onWarning?: (message: string) => void
  /**
   * The process ends with the run (the CLI): close() leaves an idle connection for the system to
   * close as the process exits. Node's own close of a socket (a half-close, waiting for the
   * server's, and process.stderr built for a debug check) cost a cache hit about 2 ms after its
   * answer. A connection with a command still waiting is closed as usual: the command's timer
   * would otherwise hold the process.
   */
  endsWithProcess?: boolean
}

export interface RedisLink {
  /** `redis://host:port/db`, without credentials, for messages. */
  readonly where: string
  /** Set once Redis failed: the run's stores use their local copies from then on. */
  readonly fellBack: boolean
  connect(): Promise<Redis>
  /** Warns once and switches the run to the local stores; an msal-ts error is thrown on. */
  fallBack(error: unknown): void
  close(): Promise<void>
}

export function openRedisLink(options: RedisLinkOptions): RedisLink {
  const { target } = options
  const warn = options.onWarning ?? (() => undefined)
  const where = `${target.tls ? 'rediss' : 'redis'}://${target.host}:${target.port}/${target.db}`
  let connection: Promise<Redis> | undefined
  let fellBack = false
  /** What the connection last reported: a command only learns that the connection is closed. */
  let socketError: Error | undefined

  function connect(): Promise<Redis> {
    connection ??= (async () => {
      const [{ Redis }, rootCertificates] = await Promise.all([
        import('ioredis'),
        // node:tls costs start-up time a redis:// link never repays.
        target.tls ? import('node:tls').then((tls) => tls.rootCertificates) : [],
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

  /** `runEnded`: the run is done with Redis, which endsWithProcess may leave to the exit. */
  async function close({ runEnded }: { runEnded: boolean }): Promise<void> {
    const redis = connection
    connection = undefined
    await redis
      ?.then((client) => {
        const idle = client.commandQueue.length === 0
        if (!(runEnded && options.endsWithProcess && idle)) {
          client.disconnect()
        }
      })
      .catch(() => undefined)
  }

  return {
    where,
    get fellBack() {
      return fellBack
    },
    connect,
    fallBack(error) {
      if (error instanceof MsalTsError) {
        throw error
      }
      if (!fellBack) {
        fellBack = true
        warn(
          `the Redis cache at ${where} is not usable (${reason(socketError ?? error)}); using the local cache file instead`,
        )
        void close({ runEnded: false })
      }
    },
    close: () => close({ runEnded: true }),
  }
}

/**
 * Runs fn under the Redis lock `lock.key`, or under the local store's lock once the run has fallen
 * back (or falls back while taking it). `held` tells a nested call and the store's write which lock
 * the current async context holds.
 */
export async function withRedisLock<T>(
  link: RedisLink,
  held: AsyncLocalStorage<RedisLock | 'local'>,
  fallback: JsonStore,
  lock: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  if (held.getStore() !== undefined) {
    return fn()
  }
  let taken: RedisLock | undefined
  if (!link.fellBack) {
    try {
      taken = await acquireLock(await link.connect(), lock)
    } catch (error) {
      link.fallBack(error)
    }
  }
  if (taken === undefined) {
    return fallback.withLock(() => held.run('local', fn))
  }
  try {
    return await held.run(taken, fn)
  } finally {
    await taken.release()
  }
}

/** The lock a store's write runs under; writing without one is a bug in the caller. */
export function heldLock(
  held: AsyncLocalStorage<RedisLock | 'local'>,
  link: RedisLink,
): RedisLock | 'local' {
  const lock = held.getStore()
  if (lock === undefined) {
    throw new RuntimeFailure(
      'cache_not_locked',
      `internal error: wrote ${link.where} without its lock`,
    )
  }
  return lock
}

function clientOptions(
  options: RedisLinkOptions,
  rootCertificates: readonly string[],
): RedisOptions {
  const { target, timeoutMs } = options
  const ca =
    options.checkedCa ?? (options.caFile === undefined ? undefined : readCaFile(options.caFile))
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

/**
 * The values of keys, null for an absent (or empty) one, read no further than a cache file may be
 * long: anyone who can write to the server could otherwise make every run hold, parse and copy to
 * its local file a value of any size. A longer value, or values longer together, throws.
 */
export async function getBounded(
  redis: Redis,
  keys: readonly string[],
): Promise<(string | null)[]> {
  return boundedTexts(keys, await readBounded(redis, keys))
}

/**
 * Sends the reads of getBounded without waiting for them: reads sent in one tick share a round
 * trip. boundedTexts checks and decodes what comes back.
 */
export function readBounded(redis: Redis, keys: readonly string[]): Promise<Buffer[]> {
  return Promise.all(keys.map((key) => redis.getrangeBuffer(key, 0, maxCacheBytes)))
}

export function boundedTexts(
  keys: readonly string[],
  values: readonly Buffer[],
): (string | null)[] {
  let total = 0
  return values.map((value, i) => {
    total += value.length
    if (total > maxCacheBytes) {
      throw new OversizeValue(
        `the Redis key ${keys[i] ?? ''} is larger than ${maxCacheBytes / 1024 / 1024} MiB`,
      )
    }
    return value.length === 0 ? null : value.toString('utf8')
  })
}

/**
 * A problem with one key's value (of another type, too large), not with the server: it need not
 * cost the run its other keys.
 */
export function isKeyProblem(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ReplyError' || error instanceof OversizeValue)
}

/** A JSON object, or undefined for anything else. */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

export function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? message
}

class OversizeValue extends Error {}
