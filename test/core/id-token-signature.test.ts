import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import type { Endpoints } from '../../src/core/authority/discovery.js'
import { RuntimeFailure } from '../../src/core/kernel/errors.js'
import type { HttpClient, HttpRequest } from '../../src/core/http/types.js'
import { verifyIdTokenSignature } from '../../src/core/protocol/id-token-signature.js'

const endpoints: Endpoints = {
  tokenEndpoint: 'https://op/token',
  jwksUri: 'https://op/jwks',
  realm: '',
}

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256' } }
}

function sign(privateKey: CryptoKey, kid: string) {
  return new SignJWT({ sub: 'alice', aud: 'client', iss: 'https://op' })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey)
}

/** Serves whatever key sets are queued, the last one forever, and records each fetch. */
function jwksServer(...sets: object[][]) {
  const requests: HttpRequest[] = []
  const http: HttpClient = {
    request(req) {
      requests.push(req)
      const keys = sets.length > 1 ? sets.shift() : sets[0]
      return Promise.resolve({ status: 200, headers: {}, body: JSON.stringify({ keys }) })
    },
  }
  return { http, requests }
}

test('a token signed by a published key verifies', async () => {
  const k1 = await keyPair('k1')
  const { http, requests } = jwksServer([k1.jwk])
  await verifyIdTokenSignature(await sign(k1.privateKey, 'k1'), http, endpoints)
  assert.equal(requests.length, 1)
})

test('a tampered signature is refused', async () => {
  const k1 = await keyPair('k1')
  const token = await sign(k1.privateKey, 'k1')
  const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA')
  await assert.rejects(
    verifyIdTokenSignature(tampered, jwksServer([k1.jwk]).http, endpoints),
    (error: unknown) => {
      assert.ok(error instanceof RuntimeFailure)
      assert.equal(error.code, 'invalid_id_token')
      return true
    },
  )
})

test('an unknown kid triggers exactly one fresh fetch of the key set', async () => {
  const [k1, k2] = [await keyPair('k1'), await keyPair('k2')]
  const rotated = jwksServer([k1.jwk], [k1.jwk, k2.jwk])
  await verifyIdTokenSignature(await sign(k2.privateKey, 'k2'), rotated.http, endpoints)
  assert.deepEqual(
    rotated.requests.map((r) => r.headers?.['cache-control']),
    [undefined, 'no-cache'],
  )

  const k3 = await keyPair('k3')
  const stale = jwksServer([k1.jwk])
  await assert.rejects(
    verifyIdTokenSignature(await sign(k3.privateKey, 'k3'), stale.http, endpoints),
    RuntimeFailure,
  )
  assert.equal(stale.requests.length, 2, 'one fetch, one refetch, then a refusal')
})
