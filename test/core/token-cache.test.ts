import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseAuthority } from '../../src/core/authority/authority.js'
import { tenantIdKnown } from '../../src/core/token-cache/lookup.js'
import { SerializableTokenCache } from '../../src/core/token-cache/token-cache.js'

const now = 1_700_000_000
const clientInfo = Buffer.from(JSON.stringify({ uid: 'uid', utid: 'utid' })).toString('base64url')

function userEvent(cache: SerializableTokenCache) {
  cache.add({
    clientId: 'my_client',
    environment: 'login.microsoftonline.com',
    realm: 'contoso',
    scopes: ['s2', 's1', 's3'],
    response: {
      access_token: 'an access token',
      token_type: 'some type',
      expires_in: 3600,
      refresh_token: 'a refresh token',
      id_token: 'an.id.token',
      client_info: clientInfo,
      refresh_in: 1800,
    },
    idTokenClaims: { sub: 'subject', oid: 'object1234', preferred_username: 'John Doe' },
    grantType: 'authorization_code',
    now,
  })
}

test('entries and keys are exactly what MSAL Python writes', () => {
  const cache = new SerializableTokenCache()
  userEvent(cache)
  const doc = cache.toJSON()
  assert.deepEqual(
    doc.AccessToken['uid.utid-login.microsoftonline.com-accesstoken-my_client-contoso-s1 s2 s3'],
    {
      credential_type: 'AccessToken',
      secret: 'an access token',
      home_account_id: 'uid.utid',
      environment: 'login.microsoftonline.com',
      client_id: 'my_client',
      realm: 'contoso',
      target: 's1 s2 s3',
      token_type: 'some type',
      cached_at: '1700000000',
      expires_on: '1700003600',
      extended_expires_on: '1700003600',
      refresh_on: '1700001800',
    },
  )
  assert.deepEqual(
    doc.RefreshToken['uid.utid-login.microsoftonline.com-refreshtoken-my_client--s1 s2 s3'],
    {
      credential_type: 'RefreshToken',
      secret: 'a refresh token',
      home_account_id: 'uid.utid',
      environment: 'login.microsoftonline.com',
      client_id: 'my_client',
      target: 's1 s2 s3',
      last_modification_time: '1700000000',
    },
  )
  assert.deepEqual(doc.IdToken['uid.utid-login.microsoftonline.com-idtoken-my_client-contoso-'], {
    credential_type: 'IdToken',
    secret: 'an.id.token',
    home_account_id: 'uid.utid',
    environment: 'login.microsoftonline.com',
    client_id: 'my_client',
    realm: 'contoso',
  })
  assert.deepEqual(doc.Account['uid.utid-login.microsoftonline.com-contoso'], {
    home_account_id: 'uid.utid',
    environment: 'login.microsoftonline.com',
    realm: 'contoso',
    local_account_id: 'object1234',
    username: 'John Doe',
    authority_type: 'MSSTS',
    account_source: 'authorization_code',
  })
  assert.deepEqual(doc.AppMetadata['appmetadata-login.microsoftonline.com-my_client'], {
    client_id: 'my_client',
    environment: 'login.microsoftonline.com',
  })
})

test('an app-only token has a null home account, no account, and a key starting with "-"', () => {
  const cache = new SerializableTokenCache()
  cache.add({
    clientId: 'App',
    environment: 'login.microsoftonline.com',
    realm: 'TenantGuid',
    scopes: ['https://graph.microsoft.com/.default'],
    response: {
      access_token: 'at',
      expires_in: '3599',
      ext_expires_in: 3599,
      token_type: 'Bearer',
    },
    grantType: 'client_credentials',
    now,
  })
  const doc = cache.toJSON()
  const key =
    '-login.microsoftonline.com-accesstoken-app-tenantguid-https://graph.microsoft.com/.default'
  assert.equal(doc.AccessToken[key]?.home_account_id, null)
  assert.equal(doc.AccessToken[key]?.expires_on, '1700003599')
  assert.deepEqual(doc.Account, {})
  assert.deepEqual(Object.keys(doc.AppMetadata), ['appmetadata-login.microsoftonline.com-App'])
})

test('unknown sections and fields survive a round trip', () => {
  const cache = new SerializableTokenCache()
  cache.deserialize(
    JSON.stringify({
      AccessToken: { k: { credential_type: 'AccessToken', secret: 'x', future_field: [1, 2] } },
      FutureSection: { a: { b: 1 } },
    }),
  )
  const round = JSON.parse(cache.serialize()) as Record<string, unknown>
  assert.deepEqual(round['FutureSection'], { a: { b: 1 } })
  assert.deepEqual((round['AccessToken'] as Record<string, unknown>)['k'], {
    credential_type: 'AccessToken',
    secret: 'x',
    future_field: [1, 2],
  })
})

test('lookup ignores case, accepts msal-node\'s "" home id, and finds bare Graph scopes', () => {
  const cache = new SerializableTokenCache()
  cache.deserialize({
    AccessToken: {
      a: {
        credential_type: 'AccessToken',
        secret: 'node',
        home_account_id: '',
        environment: 'Login.Microsoftonline.com',
        client_id: 'c',
        realm: 'T',
        target: 'API://X/.default',
        cached_at: '1',
        expires_on: '9999999999',
      },
      b: {
        credential_type: 'AccessToken',
        secret: 'user',
        home_account_id: 'u.t',
        environment: 'login.microsoftonline.com',
        client_id: 'c',
        realm: 't',
        target: 'User.Read openid profile',
        cached_at: '1',
        expires_on: '9999999999',
      },
    },
  })
  const appOnly = {
    clientId: 'c',
    environment: 'login.microsoftonline.com',
    realm: 't',
    homeAccountId: null,
  }
  assert.equal(
    cache.findAccessTokens({ ...appOnly, scopes: ['api://x/.default'] })[0]?.secret,
    'node',
  )
  const user = { ...appOnly, homeAccountId: 'u.t' }
  assert.equal(cache.findAccessTokens({ ...user, scopes: ['user.read'] })[0]?.secret, 'user')
  assert.equal(
    cache.findAccessTokens({ ...user, scopes: ['https://graph.microsoft.com/User.Read'] })[0]
      ?.secret,
    'user',
  )
  assert.equal(cache.findAccessTokens({ ...user, scopes: ['api://other/User.Read'] }).length, 0)
  assert.equal(
    cache.findAccessTokens({ ...appOnly, clientId: 'other', scopes: ['api://x/.default'] }).length,
    0,
  )
})

test('a foci response marks the refresh token and the app metadata with the family', () => {
  const cache = new SerializableTokenCache()
  cache.add({
    clientId: 'c',
    environment: 'login.microsoftonline.com',
    realm: 'common',
    scopes: ['s'],
    response: { access_token: 'at', refresh_token: 'rt', client_info: clientInfo, foci: '1' },
    idTokenClaims: { sub: 's' },
    grantType: 'refresh_token',
    now,
  })
  const doc = cache.toJSON()
  assert.equal(Object.values(doc.RefreshToken)[0]?.family_id, '1')
  assert.equal(Object.values(doc.AppMetadata)[0]?.family_id, '1')
  assert.deepEqual(
    doc.Account['uid.utid-login.microsoftonline.com-common']?.account_source,
    undefined,
  )
})

test('entries other MSALs wrote under an alias of the host are found', () => {
  const cache = new SerializableTokenCache()
  const at = (environment: string, secret: string) => ({
    credential_type: 'AccessToken',
    secret,
    home_account_id: 'u.t',
    environment,
    client_id: 'c',
    realm: 't',
    target: 'User.Read',
    cached_at: '1',
    expires_on: '9999999999',
  })
  cache.deserialize({
    AccessToken: {
      a: at('login.windows.net', 'node'),
      b: at('127.0.0.1:8443', 'port'),
      c: at('evil.example', 'no'),
    },
  })
  const query = { clientId: 'c', realm: 't', homeAccountId: 'u.t', scopes: ['User.Read'] }
  assert.deepEqual(
    cache
      .findAccessTokens({ ...query, environment: 'login.microsoftonline.com' })
      .map((e) => e.secret),
    ['node'],
  )
  assert.deepEqual(
    cache.findAccessTokens({ ...query, environment: '127.0.0.1' }).map((e) => e.secret),
    ['port'],
  )
  assert.deepEqual(
    cache.findAccessTokens({ ...query, environment: 'login.microsoftonline.us' }),
    [],
  )
})

test('only a tenant named by its domain needs the discovery answer for its realm', () => {
  const authority = (tenant: string) =>
    parseAuthority(`https://login.microsoftonline.com/${tenant}`)
  for (const tenant of ['72f988bf-86f1-41af-91ab-2d7cd011db47', 'common', 'Organizations']) {
    assert.equal(tenantIdKnown(authority(tenant)), true, tenant)
  }
  for (const tenant of ['contoso.onmicrosoft.com', '72f988bf-86f1-41af-91ab-2d7cd011db4', 'tfp']) {
    assert.equal(tenantIdKnown(authority(tenant)), false, tenant)
  }
})
