import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { MsalTsError } from '../../src/core/kernel/errors.js'
import { memoryStore } from '../../src/core/kernel/json-store.js'
import { openRedisStore, type RedisStoreOptions } from '../../src/core/storage/redis-store.js'
import { startRedis, type RedisServer } from '../fixtures/redis.js'

const now = 1_800_000_000
const appToken = {
  credential_type: 'AccessToken',
  secret: 'at',
  home_account_id: null,
  client_id: 'client',
  expires_on: String(now + 3600),
}

describe('the Redis token store', () => {
  let redis: RedisServer
  before(async () => {
    redis = await startRedis()
  })
  after(() => redis.close())

  const open = (overrides: Partial<RedisStoreOptions> = {}) => {
    const warnings: string[] = []
    const fallback = memoryStore()
    const store = openRedisStore({
      target: { host: '127.0.0.1', port: redis.port, db: 3, tls: false },
      clientId: 'client',
      tenant: 'tenant',
      fallback,
      timeoutMs: 2000,
      onWarning: (message) => warnings.push(message),
      clock: () => now,
      ...overrides,
    })
    return { store, fallback, warnings }
  }

  test('what one store writes under its lock, another reads; the local copy gets it too', async () => {
    const { store: writer, fallback } = open()
    const { store: reader } = open()
    await writer.withLock(() => writer.write({ AccessToken: { key: appToken } }))
    assert.deepEqual(await reader.read(), { AccessToken: { key: appToken } })
    assert.deepEqual(await fallback.read(), { AccessToken: { key: appToken } })
    await Promise.all([writer.close(), reader.close()])
  })

  test('a write after the lock expired and was taken by another process is refused', async () => {
    const { store } = open({ timeoutMs: 1000 })
    const client = redis.client(3)
    await assert.rejects(
      store.withLock(async () => {
        // Another process took the lock over (as after an expiry while this one stalled).
        await client.set('mutex:msal-ts:client:lock', 'someone else')
        await store.write({ AccessToken: { key: appToken } })
      }),
      (error: unknown) => error instanceof MsalTsError && error.code === 'cache_lock_lost',
    )
    assert.equal(
      await client.get('mutex:msal-ts:client:lock'),
      'someone else',
      'not released by us',
    )
    await client.del('mutex:msal-ts:client:lock')
    await store.close()
  })

  test('an unreachable Redis: one warning, then the fallback store serves reads, locks and writes', async () => {
    const down = await startRedis()
    await down.close()
    const { store, fallback, warnings } = open({
      target: { host: '127.0.0.1', port: down.port, db: 0, tls: false },
    })
    assert.equal(await store.read(), undefined)
    await store.withLock(async () => {
      await store.write({ AccessToken: { key: appToken } })
    })
    assert.deepEqual(await fallback.read(), { AccessToken: { key: appToken } })
    assert.deepEqual(await store.read(), { AccessToken: { key: appToken } })
    assert.equal(warnings.length, 1, warnings.join('\n'))
    assert.match(warnings[0] ?? '', /is not usable \(.*ECONNREFUSED.*\); using the local cache/)
    await store.close()
  })
})
