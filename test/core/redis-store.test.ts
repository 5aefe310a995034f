import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { MsalTsError } from '../../src/core/kernel/errors.js'
import { memoryStore } from '../../src/core/kernel/json-store.js'
import { openRedisDocumentStore } from '../../src/core/storage/redis-document.js'
import { openRedisLink } from '../../src/core/storage/redis-link.js'
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

  test('a value larger than a cache file may be is not read: one warning, the local store serves, its copy untouched', async () => {
    const client = redis.client(4)
    await client.set(
      'msal-ts:client:app:tenant',
      `{"AccessToken":{},"pad":"${'x'.repeat(20 * 1024 * 1024)}"}`,
    )
    const { store, fallback, warnings } = open({
      target: { host: '127.0.0.1', port: redis.port, db: 4, tls: false },
    })
    await fallback.write({ AccessToken: { key: appToken } })
    assert.deepEqual(await store.read(), { AccessToken: { key: appToken } })
    assert.equal(warnings.length, 1, warnings.join('\n'))
    assert.match(warnings[0] ?? '', /msal-ts:client:app:tenant is larger than 16 MiB/)
    assert.deepEqual(await fallback.read(), { AccessToken: { key: appToken } })
    await client.flushdb()
    await store.close()
  })

  test('an unusable HTTP-cache key (another type, too large) only sends that document local; tokens stay shared', async () => {
    const client = redis.client(5)
    const warnings: string[] = []
    const link = openRedisLink({
      target: { host: '127.0.0.1', port: redis.port, db: 5, tls: false },
      timeoutMs: 2000,
      onWarning: (message) => warnings.push(message),
    })
    const { store: tokens } = open({ link })
    for (const [name, spoil] of [
      ['another type', () => client.rpush('msal-ts:http-cache', 'a')],
      [
        'too large',
        () => client.set('msal-ts:http-cache', `{"a":"${'x'.repeat(17 * 1024 * 1024)}"}`),
      ],
    ] as const) {
      warnings.length = 0
      await client.del('msal-ts:http-cache')
      await spoil()
      const fallback = memoryStore()
      await fallback.write({ version: 1, entries: {} })
      const documents = openRedisDocumentStore({
        link,
        key: 'msal-ts:http-cache',
        ttlMs: 60_000,
        fallback,
        lockMs: 2000,
        onWarning: (message) => warnings.push(message),
      })
      assert.deepEqual(await documents.read(), { version: 1, entries: {} }, name)
      await documents.withLock(() => documents.write({ version: 1, entries: { k: 1 } }))
      assert.deepEqual(await fallback.read(), { version: 1, entries: { k: 1 } }, name)
      assert.equal(warnings.length, 1, `${name}: ${warnings.join('\n')}`)
      assert.match(warnings[0] ?? '', /the Redis key msal-ts:http-cache is not usable/, name)
      await tokens.withLock(() => tokens.write({ AccessToken: { key: appToken } }))
      assert.ok(await client.get('msal-ts:client:app:tenant'), `${name}: tokens still in Redis`)
      assert.equal(warnings.length, 1, name)
    }
    await client.flushdb()
    await link.close()
  })
})
