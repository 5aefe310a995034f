import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  type JWK,
} from 'jose'
import { RuntimeFailure, UsageError } from '../../src/core/kernel/errors.js'
import { memoryStore } from '../../src/core/kernel/json-store.js'
import {
  checkPopBinding,
  popAuthScheme,
  popRequestForm,
  signedHttpRequest,
} from '../../src/core/protocol/pop.js'
import { loadPopKey, rotatePopKey } from '../../src/core/credentials/pop-key.js'
import type { AuthenticationResult } from '../../src/core/protocol/result.js'
import { checkTokenResponse } from '../../src/core/protocol/token-response.js'
import { SerializableTokenCache } from '../../src/core/token-cache/token-cache.js'

const now = 1_700_000_000
const fakeAt = (claims: Record<string, unknown>) =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

test('the key is made once per store, reused, and replaced on rotation', async () => {
  const store = memoryStore()
  const first = await loadPopKey(store)
  const again = await loadPopKey(store)
  assert.equal(again.kid, first.kid)
  assert.equal(first.kid, await calculateJwkThumbprint(first.publicJwk, 'sha256'))
  assert.deepEqual(Object.keys(first.publicJwk).sort(), ['e', 'kty', 'n'])
  const stored = await store.read()
  assert.equal(stored?.['kid'], first.kid)
  const rotated = await rotatePopKey(store)
  assert.notEqual(rotated.kid, first.kid)
  assert.equal((await loadPopKey(store)).kid, rotated.kid)
})

test('a damaged key document is replaced by a new key', async () => {
  const store = memoryStore()
  await store.write({ private_jwk: { kty: 'RSA', n: 'x' } })
  const key = await loadPopKey(store)
  assert.equal((await store.read())?.['kid'], key.kid)
})

test('req_cnf is base64url JSON naming the key by thumbprint, held in software', async () => {
  const key = await loadPopKey(memoryStore())
  const form = popRequestForm(key)
  assert.equal(form['token_type'], 'pop')
  assert.doesNotMatch(form['req_cnf'] ?? '', /[=+/]/)
  assert.deepEqual(JSON.parse(Buffer.from(form['req_cnf'] ?? '', 'base64url').toString()), {
    kid: key.kid,
    xms_ksl: 'sw',
  })
})

test('the SHR verifies with the key in its cnf and carries at, ts, m, u, p and nonce', async () => {
  const key = await loadPopKey(memoryStore())
  const result: AuthenticationResult = {
    access_token: fakeAt({ cnf: { kid: key.kid } }),
    token_type: 'pop',
    expires_in: 3600,
    expires_on: now + 3600,
    scope: ['User.Read'],
    token_source: 'cache',
  }
  const scheme = popAuthScheme('post', 'https://api.contoso.test:8443/v1/items?top=5', 'n-123')
  const signed = await signedHttpRequest(result, key, scheme, now)
  assert.equal(signed.token_type, 'pop')
  const header = decodeProtectedHeader(signed.access_token)
  assert.deepEqual(header, { alg: 'RS256', typ: 'pop', kid: key.kid })
  const unverified = JSON.parse(
    Buffer.from(signed.access_token.split('.')[1] ?? '', 'base64url').toString(),
  ) as { cnf: { jwk: JWK } }
  const { payload } = await jwtVerify(
    signed.access_token,
    await importJWK(unverified.cnf.jwk, 'RS256'),
  )
  assert.equal(payload['at'], result.access_token)
  assert.equal(payload['ts'], now)
  assert.equal(payload['m'], 'POST')
  assert.equal(payload['u'], 'api.contoso.test:8443')
  assert.equal(payload['p'], '/v1/items')
  assert.equal(payload['nonce'], 'n-123')
  assert.equal(await calculateJwkThumbprint(unverified.cnf.jwk), key.kid)
})

test('without a nonce from the resource, every SHR carries a fresh random one', async () => {
  const key = await loadPopKey(memoryStore())
  const result: AuthenticationResult = {
    access_token: fakeAt({ cnf: { kid: key.kid } }),
    token_type: 'pop',
    expires_in: 3600,
    expires_on: now + 3600,
    scope: ['User.Read'],
    token_source: 'cache',
  }
  const scheme = popAuthScheme('GET', 'https://api.contoso.test/')
  const first = await signedHttpRequest(result, key, scheme, now)
  const second = await signedHttpRequest(result, key, scheme, now)
  assert.notEqual(first.access_token, second.access_token)
  const nonces = [first, second].map((shr) => decodeJwt(shr.access_token)['nonce'])
  assert.ok(nonces.every((nonce) => typeof nonce === 'string' && nonce.length >= 16))
  assert.notEqual(nonces[0], nonces[1])
})

test('an auth scheme needs a known method and an http(s) URL', () => {
  assert.throws(() => popAuthScheme('FETCH', 'https://x.test/'), UsageError)
  assert.throws(() => popAuthScheme('GET', 'not a url'), UsageError)
  assert.throws(() => popAuthScheme('GET', 'ftp://x.test/'), UsageError)
  assert.throws(() => popAuthScheme('GET', 'https://x.test/', ''), UsageError)
  assert.equal(popAuthScheme('delete', 'https://x.test/').httpMethod, 'DELETE')
})

test('a bearer answer or a token bound to another key is refused for a PoP request', async () => {
  const key = await loadPopKey(memoryStore())
  const answer = (body: Record<string, unknown>) => {
    const checked = checkTokenResponse(body, { from: 'login.test', asked: 'pop', now })
    checkPopBinding(checked, key)
    return checked
  }
  assert.throws(
    () => answer({ token_type: 'Bearer', access_token: fakeAt({}) }),
    (error: unknown) =>
      error instanceof RuntimeFailure &&
      error.code === 'pop_not_issued' &&
      error.message === 'login.test answered a "Bearer" token to a Proof-of-Possession request',
  )
  assert.throws(
    () => answer({ access_token: fakeAt({ cnf: { kid: key.kid } }) }),
    /answered a "Bearer" token to a Proof-of-Possession request/,
  )
  assert.throws(
    () => answer({ token_type: 'pop', access_token: fakeAt({ cnf: { kid: 'other' } }) }),
    (error: unknown) => error instanceof RuntimeFailure && error.code === 'pop_key_mismatch',
  )
  assert.equal(
    answer({ token_type: 'PoP', access_token: fakeAt({ cnf: { kid: key.kid } }) }).token_type,
    'PoP',
  )
})

const popKeyName =
  'uid.utid-login.microsoftonline.com-accesstoken_with_authscheme-app-contoso-user.read--pop'

/** A cache with a user's bearer token and PoP token (key kid-1) for User.Read. */
function bearerAndPop(): SerializableTokenCache {
  const cache = new SerializableTokenCache()
  const clientInfo = Buffer.from(JSON.stringify({ uid: 'uid', utid: 'utid' })).toString('base64url')
  const add = (tokenType: string, secret: string, keyId?: string) =>
    cache.add({
      clientId: 'app',
      environment: 'login.microsoftonline.com',
      realm: 'contoso',
      scopes: ['User.Read'],
      response: {
        access_token: secret,
        token_type: tokenType,
        expires_in: 3600,
        client_info: clientInfo,
      },
      grantType: 'password',
      ...(keyId !== undefined ? { keyId } : {}),
      now,
    })
  add('Bearer', 'bearer-at')
  add('pop', 'pop-at', 'kid-1')
  return cache
}

const userQuery = {
  clientId: 'app',
  environment: 'login.microsoftonline.com',
  realm: 'contoso',
  homeAccountId: 'uid.utid',
  scopes: ['User.Read'],
}

test('a bearer and a PoP token for one scope live side by side; each lookup finds only its own', () => {
  const cache = bearerAndPop()
  const doc = cache.toJSON()
  assert.deepEqual(Object.keys(doc.AccessToken), [
    'uid.utid-login.microsoftonline.com-accesstoken-app-contoso-user.read',
  ])
  // The PoP token is in a section of its own, keyed and shaped as msal-node keeps its PoP tokens.
  assert.deepEqual(Object.keys(doc.AccessToken_With_AuthScheme ?? {}), [popKeyName])
  const pop = doc.AccessToken_With_AuthScheme?.[popKeyName]
  assert.equal(pop?.credential_type, 'AccessToken_With_AuthScheme')
  assert.equal(pop?.token_type, 'pop')
  assert.equal(pop?.key_id, 'kid-1')
  assert.deepEqual(
    cache.findAccessTokens(userQuery).map((at) => at.secret),
    ['bearer-at'],
  )
  assert.deepEqual(
    cache
      .findAccessTokens({ ...userQuery, authScheme: 'pop', keyId: 'kid-1' })
      .map((at) => at.secret),
    ['pop-at'],
  )
  assert.deepEqual(cache.findAccessTokens({ ...userQuery, authScheme: 'pop', keyId: 'kid-2' }), [])
})

test('PoP entries other libraries put in AccessToken are never a bearer token, nor ours', () => {
  const cache = bearerAndPop()
  const doc = cache.toJSON()
  const pop = doc.AccessToken_With_AuthScheme?.[popKeyName]
  assert.ok(pop)
  delete doc.AccessToken['uid.utid-login.microsoftonline.com-accesstoken-app-contoso-user.read']
  // msal-node's own PoP entry, in AccessToken; and MSAL Python's external-key PoP, a plain AccessToken.
  doc.AccessToken[popKeyName] = { ...pop, secret: 'msal-node pop' }
  doc.AccessToken['python-style'] = {
    ...pop,
    credential_type: 'AccessToken',
    secret: 'external',
  }
  // toJSON hands out a copy: the planted document is loaded as another library's file would be.
  cache.deserialize({ ...doc })
  assert.deepEqual(cache.findAccessTokens(userQuery), [])
  assert.deepEqual(
    cache
      .findAccessTokens({ ...userQuery, authScheme: 'pop', keyId: 'kid-1' })
      .map((at) => at.secret),
    ['pop-at'],
  )
})

test("a cache without PoP tokens has no PoP section; signing out removes the account's PoP tokens", () => {
  const plain = new SerializableTokenCache()
  plain.deserialize('{}')
  assert.equal('AccessToken_With_AuthScheme' in JSON.parse(plain.serialize()), false)

  const cache = bearerAndPop()
  cache.removeClientTokens('app', ['login.microsoftonline.com'])
  assert.deepEqual(
    Object.keys(cache.toJSON().AccessToken_With_AuthScheme ?? {}),
    [popKeyName],
    'app-token removal leaves user PoP tokens',
  )
  cache.removeAccount({ home_account_id: 'uid.utid', environment: 'login.windows.net' }, 'app')
  assert.deepEqual(cache.toJSON().AccessToken_With_AuthScheme, {})
  assert.deepEqual(cache.toJSON().AccessToken, {})
})
