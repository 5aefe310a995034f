/**
 * The single-flight lock across machines: `SET key token NX PX ttl`, renewed while its holder lives
 * and released only by its holder (compare-and-delete). A holder that dies stops renewing it, so
 * the key expires and the next process takes it: no process waits on a dead one for longer than ttl.
 */
import type { Redis } from 'ioredis'
import { RuntimeFailure } from './errors.js'

const renewScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`

const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`

const firstRetryDelayMs = 20
const maxRetryDelayMs = 500

export interface RedisLock {
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
  /** Told once when the lock is busy, before the wait starts. */
  onWait?: () => void
}

/** Waits for the lock with a bounded, jittered back-off. */
export async function acquireLock(redis: Redis, options: LockOptions): Promise<RedisLock> {
  const { randomUUID } = await import('node:crypto')
  const token = randomUUID()
  const deadline = Date.now() + options.waitMs
  let delay = firstRetryDelayMs
  while ((await redis.set(options.key, token, 'PX', options.ttlMs, 'NX')) !== 'OK') {
    if (delay === firstRetryDelayMs) {
      options.onWait?.()
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) {
      throw new RuntimeFailure(
        'cache_locked',
        `timed out after ${Math.round(options.waitMs / 1000)}s waiting for the Redis lock ${options.key}`,
      )
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(remaining, delay * (0.5 + Math.random()))),
    )
    delay = Math.min(delay * 1.5, maxRetryDelayMs)
  }

  let lost = false
  const renew = setInterval(
    () => {
      redis.eval(renewScript, 1, options.key, token, options.ttlMs).then(
        (renewed) => {
          lost ||= renewed === 0
        },
        // Redis gone: the write that follows finds out and falls back.
        () => undefined,
      )
    },
    Math.max(1, Math.floor(options.ttlMs / 3)),
  )
  renew.unref()
  return {
    token,
    get lost() {
      return lost
    },
    async release() {
      clearInterval(renew)
      // A lock that cannot be released expires by itself.
      await redis.eval(releaseScript, 1, options.key, token).catch(() => undefined)
    },
  }
}
