import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { acquireLock } from '../../src/core/storage/redis-lock.js'
import { startRedis, type RedisServer } from '../fixtures/redis.js'

/** A client as the stores open one: no retry, no queue, every command bounded. */
async function openClient(server: RedisServer): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port: server.port,
    lazyConnect: true,
    commandTimeout: 200,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/**
 * The replies to the lock's renewals (its only EVALSHA), in the order they were sent. The first
 * one finds the script not loaded yet (NOSCRIPT) and is sent again as EVAL.
 */
function watchRenewals(client: Redis): Promise<unknown>[] {
  const renewals: Promise<unknown>[] = []
  const evalsha = client.evalsha.bind(client) as (...args: unknown[]) => Promise<unknown>
  Object.assign(client, {
    evalsha: (...args: unknown[]) => {
      const reply = evalsha(...args)
      renewals.push(reply)
      return reply
    },
  })
  return renewals
}

/** The reply to renewal number `index`, once it was sent (wrapped: a promise would be awaited). */
async function renewal(
  renewals: Promise<unknown>[],
  index: number,
): Promise<{ reply: Promise<unknown> }> {
  while (renewals.length <= index) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return { reply: renewals[index] as Promise<unknown> }
}

/** Waits for a renewal that Redis answered. */
async function renewed(renewals: Promise<unknown>[]): Promise<void> {
  for (let i = 0; ; i++) {
    const { reply } = await renewal(renewals, i)
    if (
      await reply.then(
        () => true,
        () => false,
      )
    ) {
      return
    }
  }
}

describe('the Redis lock', () => {
  const escaped: unknown[] = []
  const onRejection = (reason: unknown) => void escaped.push(reason)
  before(() => process.on('unhandledRejection', onRejection))
  after(() => process.off('unhandledRejection', onRejection))

  for (const [how, failure] of [
    ['stopped', /Connection is closed|Stream isn't writeable/],
    ['frozen (SIGSTOP)', /Command timed out/],
  ] as const) {
    test(`a renewal meeting a Redis ${how} fails quietly: the lock is not called lost, release resolves`, async () => {
      const server = await startRedis()
      const client = await openClient(server)
      try {
        const renewals = watchRenewals(client)
        const lock = await acquireLock(client, { key: 'k', ttlMs: 300, waitMs: 1000 })
        await renewed(renewals)
        const sent = renewals.length
        if (how === 'stopped') {
          await server.stop()
        } else {
          server.freeze()
        }
        await assert.rejects((await renewal(renewals, sent)).reply, failure)
        // Whatever the library does with the failure happens in the ticks after it.
        await new Promise((resolve) => setImmediate(resolve))
        assert.deepEqual(escaped, [])
        assert.equal(lock.lost, false, 'a failed renewal proves nothing about the key')
        await assert.doesNotReject(lock.release())
      } finally {
        client.disconnect()
        await server.close()
      }
    })
  }
})
