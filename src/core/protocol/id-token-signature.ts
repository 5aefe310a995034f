import type { JSONWebKeySet, JWK } from 'jose'
import type { Endpoints } from '../authority/discovery.js'
import { RuntimeFailure } from '../kernel/errors.js'
import type { HttpClient } from '../http/types.js'

/**
 * Checks an ID token's signature against the provider's published keys. The key set comes
 * through the HTTP cache; a token signed with a key it does not hold (the provider rotated its
 * keys) triggers one fresh fetch, never more.
 */
export async function verifyIdTokenSignature(
  idToken: string,
  http: HttpClient,
  endpoints: Endpoints,
): Promise<void> {
  if (!endpoints.jwksUri) {
    throw new RuntimeFailure(
      'invalid_id_token',
      'the provider publishes no jwks_uri, so its ID token signature cannot be checked',
    )
  }
  const { createLocalJWKSet, jwtVerify, errors } = await import('jose')
  const verify = async (keys: { fresh: boolean }) =>
    jwtVerify(idToken, createLocalJWKSet(await keySet(http, endpoints.jwksUri ?? '', keys)))
  try {
    try {
      await verify({ fresh: false })
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) {
        throw error
      }
      await verify({ fresh: true })
    }
  } catch (error) {
    if (error instanceof RuntimeFailure) {
      throw error
    }
    // Expiry and the other claims are checked, with their own messages, by checkIdToken.
    if (error instanceof errors.JWTExpired || error instanceof errors.JWTClaimValidationFailed) {
      return
    }
    throw new RuntimeFailure(
      'invalid_id_token',
      `the ID token signature does not verify against the provider's keys (${(error as Error).message})`,
    )
  }
}

/** More keys than any provider publishes (Entra: under 10) means a hostile or broken answer. */
const maxKeys = 100

/** The provider's keys; `fresh` asks past any cache, when a token names a key not yet known. */
export async function keySet(
  http: HttpClient,
  url: string,
  { fresh }: { fresh: boolean },
): Promise<JSONWebKeySet> {
  const response = await http.request({
    method: 'GET',
    url,
    ...(fresh ? { headers: { 'cache-control': 'no-cache' } } : {}),
  })
  let keys: unknown
  try {
    keys =
      response.status === 200 ? (JSON.parse(response.body) as { keys?: unknown }).keys : undefined
  } catch {
    keys = undefined
  }
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new RuntimeFailure(
      'invalid_response',
      `the provider's key set at ${url} answered ${response.status} without keys`,
    )
  }
  if (keys.length > maxKeys || !keys.every(isKeyObject)) {
    throw new RuntimeFailure(
      'invalid_response',
      `the provider's key set at ${url} is not a list of at most ${maxKeys} keys`,
    )
  }
  return { keys }
}

function isKeyObject(key: unknown): key is JWK {
  return (
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    typeof (key as Record<string, unknown>)['kty'] === 'string'
  )
}
