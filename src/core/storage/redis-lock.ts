/**
 * The single-flight lock across machines, redis-semaphore's Mutex: `SET NX PX`, renewed while its
 * holder lives and released only by its holder. A holder that dies stops renewing it, so the key
 * expires and the next process takes it: no process waits on a dead one for longer than the ttl.
 */
import type { Redis } from 'ioredis'
import { RuntimeFailure } from '../kernel/errors.js'

/** How often a waiter asks again; 50 processes on one Redis stay far below its capacity. */
const retryIntervalMs = 25

export interface RedisLock {
  /** The lock's Redis key (the library prefixes the name it is given). */
  readonly key: string
  /** Proves ownership to the scripts that write under the lock. */
  readonly token: string
  /** Set when a renewal found the key gone or someone else's (it expired while this process stalled). */
  readonly lost: boolean
  release(): Promise<void>
}

export interface LockOptions {
  key: string
  /** The key's expiry; renewed every third of it while held. */
  ttlMs: number
  /** Longest wait before failing with RuntimeFailure('cache_locked', ...). */
  waitMs: number
}

export async function acquireLock(redis: Redis, options: LockOptions): Promise<RedisLock> {
  const { Mutex } = await import('redis-semaphore')
  /**
   * redis-semaphore renews from a timer and lets a failed renewal (Redis gone, no answer) reject
   * there, which crashes the process. A failed renewal proves nothing about the lock: the write
   * script checks ownership itself, and its own failure sends the run to the local cache.
   */
  class RenewingMutex extends Mutex {
    protected override async _refresh(): Promise<boolean> {
      return super._refresh().catch(() => true)
    }
  }
  let lost = false
  const mutex = new RenewingMutex(redis, options.key, {
    lockTimeout: options.ttlMs,
    refreshInterval: Math.max(1, Math.floor(options.ttlMs / 3)),
    acquireTimeout: options.waitMs,
    retryInterval: retryIntervalMs,
    onLockLost: () => {
      lost = true
    },
  })
  if (!(await mutex.tryAcquire())) {
    throw new RuntimeFailure(
      'cache_locked',
      `timed out after ${Math.round(options.waitMs / 1000)}s waiting for the Redis lock ${options.key}`,
    )
  }
  return {
    key: `mutex:${options.key}`,
    token: mutex.identifier,
    get lost() {
      return lost
    },
    // A lock that cannot be released expires by itself.
    release: () => mutex.release().catch(() => undefined),
  }
}
