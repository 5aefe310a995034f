import { createHash, randomBytes } from 'node:crypto'
import { RuntimeFailure } from '../kernel/errors.js'
import type { IdTokenClaims } from './client-info.js'

/** Clock skew allowed on ID token times, as MSAL Python allows. */
const skewSeconds = 120

export interface IdTokenExpectations {
  clientId: string
  /** The issuer from discovery; Entra's multi-tenant `{tenantid}` placeholder is filled from `tid`. */
  issuer?: string
  /** The `nonce` claim the token must carry: what the authorize request sent. */
  nonceClaim?: string
  /** Seconds: with max_age, `auth_time` must be recent enough. */
  maxAge?: number
  now: number
}

/** The claims of an ID token. The signature is checked elsewhere (against the JWKS) where it matters. */
export function decodeIdToken(idToken: string): IdTokenClaims {
  const payload = idToken.split('.')[1]
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))
    if (typeof claims === 'object' && claims !== null && !Array.isArray(claims)) {
      return claims as IdTokenClaims
    }
  } catch {
    // reported below
  }
  throw new RuntimeFailure(
    'invalid_id_token',
    'the identity provider sent an ID token that cannot be decoded',
  )
}

/** Checks `aud`, `iss`, `exp`, the nonce and `auth_time`; a token that fails is never cached. */
export function checkIdToken(claims: IdTokenClaims, expected: IdTokenExpectations): void {
  const fail = (why: string) => {
    throw new RuntimeFailure('invalid_id_token', `the ID token was refused: ${why}`)
  }
  const aud = claims['aud']
  if (!(aud === expected.clientId || (Array.isArray(aud) && aud.includes(expected.clientId)))) {
    fail(`it is for ${JSON.stringify(aud)}, not this client`)
  }
  if (expected.issuer !== undefined) {
    const tid = typeof claims['tid'] === 'string' ? claims['tid'] : undefined
    const issuer = tid ? expected.issuer.replace('{tenantid}', tid) : expected.issuer
    if (!sameIssuer(claims['iss'], issuer)) {
      fail(`its issuer ${JSON.stringify(claims['iss'])} is not ${issuer}`)
    }
  }
  const exp = claims['exp']
  if (typeof exp !== 'number') {
    fail('it has no expiry')
  } else if (exp + skewSeconds < expected.now) {
    fail('it has expired')
  }
  if (expected.nonceClaim !== undefined && claims['nonce'] !== expected.nonceClaim) {
    fail('its nonce does not match the sign-in request (a replayed or injected response?)')
  }
  if (expected.maxAge !== undefined) {
    const authTime = claims['auth_time']
    if (typeof authTime !== 'number') {
      fail('max_age was asked for but it has no auth_time')
    } else if (expected.now - skewSeconds > authTime + expected.maxAge) {
      fail(`the sign-in is older than max_age (${expected.maxAge} s)`)
    }
  }
}

function sameIssuer(actual: unknown, expected: string): boolean {
  return typeof actual === 'string' && actual.replace(/\/+$/, '') === expected.replace(/\/+$/, '')
}

/** The nonce goes on the authorize URL hashed, as MSAL sends it. */
export function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('hex')
}

/** An unguessable string for state, nonce and the PKCE verifier (43 chars of base64url). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/** PKCE S256: the challenge for a verifier. */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}
