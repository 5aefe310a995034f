import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { MsalTsError } from '../../src/core/kernel/errors.js'
import type { HttpClient, HttpRequest } from '../../src/core/http/types.js'
import { decodeJwt, verifyJwt } from '../../src/core/protocol/jwt-inspection.js'

const issuer = 'https://login.example.com/tenant/v2.0'
const now = () => Math.floor(Date.now() / 1000)

async function keyPair(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256' } }
}

function sign(
  privateKey: CryptoKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ iss: issuer, exp: now() + 600, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', ...header })
    .sign(privateKey)
}

/** An issuer's two documents, by URL; `documentIssuer` is what its discovery document claims. */
function issuerServer(keys: JWK[], options: { documentIssuer?: string; base?: string } = {}) {
  const base = options.base ?? issuer
  const requests: HttpRequest[] = []
  const http: HttpClient = {
    request(req) {
      requests.push(req)
      const body =
        req.url === `${base.replace(/\/$/, '')}/.well-known/openid-configuration`
          ? {
              issuer: options.documentIssuer ?? base,
              token_endpoint: 'https://login.example.com/tenant/oauth2/v2.0/token',
              jwks_uri: 'https://login.example.com/tenant/keys',
            }
          : req.url === 'https://login.example.com/tenant/keys'
            ? { keys }
            : undefined
      return Promise.resolve(
        body === undefined
          ? { status: 404, headers: {}, body: '' }
          : { status: 200, headers: {}, body: JSON.stringify(body) },
      )
    },
  }
  return { http, requests }
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<MsalTsError> {
  let caught: unknown
  await assert.rejects(promise, (error: unknown) => {
    caught = error
    return true
  })
  assert.ok(caught instanceof MsalTsError, String(caught))
  assert.equal(caught.code, code, caught.message)
  return caught
}

test('decodeJwt: header and claims of a JWS; a JWE or anything else is a usage error that does not repeat the input', async () => {
  const k1 = await keyPair('k1')
  const token = await sign(k1.privateKey, { sub: 'alice' })
  const decoded = await decodeJwt(token)
  assert.equal(decoded.header['kid'], 'k1')
  assert.equal(decoded.claims['sub'], 'alice')
  const jwe = await rejectsWith(decodeJwt('eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'), 'invalid_token')
  assert.equal(jwe.kind, 'usage')
  assert.match(jwe.message, /encrypted/)
  const garbage = await rejectsWith(decodeJwt('secret-value.not.json'), 'invalid_token')
  assert.ok(!garbage.message.includes('secret-value'))
})

test('verifyJwt: two GETs (discovery, then jwks_uri), the token in neither', async () => {
  const k1 = await keyPair('k1')
  const { http, requests } = issuerServer([k1.jwk])
  const token = await sign(k1.privateKey, {})
  const verified = await verifyJwt(await decodeJwt(token), http)
  assert.deepEqual(verified, {
    issuer,
    jwksUri: 'https://login.example.com/tenant/keys',
    kid: 'k1',
  })
  assert.deepEqual(
    requests.map((r) => `${r.method} ${r.url}`),
    [`GET ${issuer}/.well-known/openid-configuration`, 'GET https://login.example.com/tenant/keys'],
  )
  assert.ok(!JSON.stringify(requests).includes(token.split('.')[2] ?? ''))
})

test('an issuer with a trailing slash (Entra v1) finds its document without a double slash', async () => {
  const k1 = await keyPair('k1')
  const v1 = 'https://login.example.com/tenant/'
  const { http, requests } = issuerServer([k1.jwk], { base: v1 })
  await verifyJwt(await decodeJwt(await sign(k1.privateKey, { iss: v1 })), http)
  assert.equal(
    requests[0]?.url,
    'https://login.example.com/tenant/.well-known/openid-configuration',
  )
})

test('a discovery document naming another issuer of the same host is refused', async () => {
  const k1 = await keyPair('k1')
  const { http } = issuerServer([k1.jwk], {
    documentIssuer: 'https://login.example.com/other/v2.0',
  })
  await rejectsWith(
    verifyJwt(await decodeJwt(await sign(k1.privateKey, {})), http),
    'invalid_issuer',
  )
})

test('no issuer, or one over http off loopback: unverifiable, and nothing is fetched', async () => {
  const k1 = await keyPair('k1')
  const { http, requests } = issuerServer([k1.jwk])
  for (const iss of [undefined, 'http://login.example.com/tenant', 'javascript:alert(1)']) {
    const token = await sign(k1.privateKey, { iss })
    await rejectsWith(verifyJwt(await decodeJwt(token), http), 'unverifiable_token')
  }
  assert.deepEqual(requests, [])
})

test('expired, not yet valid, tampered, an unknown key, and a Graph header nonce each say so', async () => {
  const k1 = await keyPair('k1')
  const other = await keyPair('k2')
  const { http, requests } = issuerServer([k1.jwk])
  const check = async (token: string) => verifyJwt(await decodeJwt(token), http)

  await rejectsWith(check(await sign(k1.privateKey, { exp: now() - 60 })), 'token_expired')
  await rejectsWith(check(await sign(k1.privateKey, { nbf: now() + 3600 })), 'token_not_valid')

  const token = await sign(k1.privateKey, {})
  const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
  await rejectsWith(check(tampered), 'invalid_signature')

  const withNonce = await sign(other.privateKey, {}, { nonce: 'n' })
  const error = await rejectsWith(
    check(`${withNonce.split('.').slice(0, 2).join('.')}.${tampered.split('.')[2]}`),
    'unverifiable_token',
  )
  assert.match(error.message, /Microsoft Graph/)

  requests.length = 0
  await rejectsWith(check(await sign(other.privateKey, {}, { kid: 'k2' })), 'unknown_key')
  const keyFetches = requests.filter((r) => r.url.endsWith('/keys'))
  assert.equal(keyFetches.length, 2, 'the key set is asked afresh once')
  assert.equal(keyFetches[1]?.headers?.['cache-control'], 'no-cache')
})
