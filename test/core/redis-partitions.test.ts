import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  longLivedSeconds,
  mergePartitions,
  partitionKeys,
  splitDocument,
} from '../../src/core/storage/redis-partitions.js'

const now = 1_800_000_000
const clientId = 'AAAA-Client'
const keys = partitionKeys(clientId, 'Contoso.onmicrosoft.com')
const alice = 'uid-a.utid-1'
const bob = 'UID-B.utid-1'

function accessToken(home: string | null, expiresIn: number, extIn = expiresIn) {
  return {
    credential_type: 'AccessToken',
    secret: `at-${home}-${expiresIn}`,
    home_account_id: home,
    environment: 'login.microsoftonline.com',
    client_id: clientId,
    realm: 'tenant',
    target: 'scope',
    cached_at: String(now),
    expires_on: String(now + expiresIn),
    extended_expires_on: String(now + extIn),
  }
}

const metadata = {
  'appmetadata-login.microsoftonline.com-AAAA-Client': {
    client_id: clientId,
    environment: 'login.microsoftonline.com',
    family_id: '1',
  },
}

const document = {
  AccessToken: {
    app1: accessToken(null, 3600),
    app2: accessToken('', 600, 7200),
    alice1: accessToken(alice, 300),
    bob1: accessToken(bob, 3600),
  },
  RefreshToken: {
    alice: { credential_type: 'RefreshToken', secret: 'rt', home_account_id: alice },
  },
  IdToken: { alice: { credential_type: 'IdToken', home_account_id: alice } },
  Account: { alice: { home_account_id: alice, username: 'alice' } },
  AppMetadata: metadata,
}

describe('Redis partitions of the token cache', () => {
  test('keys: app tokens per client and tenant, user tokens per home account id, lower-cased', () => {
    assert.equal(keys.app, 'msal-ts:aaaa-client:app:contoso.onmicrosoft.com')
    assert.equal(keys.user(bob), 'msal-ts:aaaa-client:user:uid-b.utid-1')
    assert.equal(keys.users, 'msal-ts:aaaa-client:users')
    assert.equal(keys.lock, 'msal-ts:aaaa-client:lock')
    assert.notEqual(partitionKeys(clientId, 'other').app, keys.app)
    assert.equal(partitionKeys(clientId, 'other').lock, keys.lock, 'one lock per client')
  })

  test('app tokens (home_account_id null or "") go to the app partition, the rest to their account', () => {
    const parts = splitDocument(document, keys, now)
    assert.deepEqual([...parts.keys()].sort(), [keys.app, keys.user(alice), keys.user(bob)].sort())
    const app = parts.get(keys.app)
    assert.equal(app?.account, undefined)
    assert.deepEqual(Object.keys(app?.document['AccessToken'] as object), ['app1', 'app2'])
    const a = parts.get(keys.user(alice))
    assert.equal(a?.account, alice)
    assert.deepEqual(Object.keys(a?.document ?? {}).sort(), [
      'AccessToken',
      'Account',
      'AppMetadata',
      'IdToken',
      'RefreshToken',
    ])
    assert.equal(parts.get(keys.user(bob))?.account, 'uid-b.utid-1')
  })

  test('AppMetadata goes with every partition, so each alone is a complete cache for its tokens', () => {
    for (const partition of splitDocument(document, keys, now).values()) {
      assert.deepEqual(partition.document['AppMetadata'], metadata)
    }
  })

  test('expiry: the longest access token lifetime (extended included); refresh tokens and accounts live long', () => {
    const parts = splitDocument(document, keys, now)
    assert.equal(parts.get(keys.app)?.ttlSeconds, 7200)
    assert.equal(parts.get(keys.user(bob))?.ttlSeconds, 3600)
    assert.equal(parts.get(keys.user(alice))?.ttlSeconds, longLivedSeconds)
    assert.equal(longLivedSeconds, 90 * 24 * 3600)
  })

  test('a partition holding only expired access tokens has nothing worth keeping', () => {
    const parts = splitDocument({ AccessToken: { old: accessToken(null, -60) } }, keys, now)
    assert.ok((parts.get(keys.app)?.ttlSeconds ?? 1) <= 0)
  })

  test('an empty document has no partitions; unknown top-level fields stay with the app partition', () => {
    assert.equal(splitDocument({}, keys, now).size, 0)
    const parts = splitDocument({ Extra: 'kept', AccessToken: {} }, keys, now)
    assert.deepEqual(parts.get(keys.app)?.document, { Extra: 'kept' })
  })

  test('merging the partitions gives back the document', () => {
    const parts = [...splitDocument(document, keys, now).values()].map((p) => p.document)
    assert.deepEqual(mergePartitions(parts), document)
    assert.deepEqual(mergePartitions([]), {})
  })
})
