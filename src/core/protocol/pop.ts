/**
 * Proof-of-Possession: asking Entra for an access token bound to our key (`token_type=pop` with
 * `req_cnf`), and the Signed HTTP Request (SHR) that presents it for one request to a resource.
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../kernel/clock.js'
import { RuntimeFailure, UsageError } from '../kernel/errors.js'
import type { PopKey } from '../credentials/pop-key.js'
import type { AuthenticationResult } from './result.js'

/** The request a PoP token is presented for: MSAL's PopAuthScheme (the nonce is optional here). */
export interface PopAuthScheme {
  httpMethod: string
  url: string
  /** The resource's server nonce, when it asked for one; otherwise each SHR gets a random one. */
  nonce?: string
}

const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']

/** A checked auth scheme: the method upper-cased, the URL absolute http(s). */
export function popAuthScheme(httpMethod: string, url: string, nonce?: string): PopAuthScheme {
  const method = httpMethod.toUpperCase()
  if (!methods.includes(method)) {
    throw new UsageError(
      'invalid_pop_method',
      `the PoP HTTP method must be one of ${methods.join(', ')}, not ${JSON.stringify(httpMethod)}`,
    )
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError('invalid_pop_url', `the PoP URL ${JSON.stringify(url)} is not a URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UsageError('invalid_pop_url', `the PoP URL must be http(s), not ${parsed.protocol}`)
  }
  if (nonce === '') {
    throw new UsageError('invalid_pop_nonce', 'the PoP nonce is empty')
  }
  return { httpMethod: method, url, ...(nonce !== undefined ? { nonce } : {}) }
}

/** What the token request adds: base64url JSON naming the key by thumbprint, held in software. */
export function popRequestForm(key: PopKey): Record<string, string> {
  const reqCnf = Buffer.from(JSON.stringify({ kid: key.kid, xms_ksl: 'sw' })).toString('base64url')
  return { token_type: 'pop', req_cnf: reqCnf }
}

/**
 * A PoP token must be bound to our key (its `cnf.kid`): one bound to another key would be presented
 * as what it is not, so it is refused and never cached. That the answer is a PoP token at all is
 * checked with every other field of the answer (checkTokenResponse, asked for `pop`).
 */
export function checkPopBinding(response: { access_token: string }, key: PopKey): void {
  if (boundKeyId(response.access_token) !== key.kid) {
    throw new RuntimeFailure(
      'pop_key_mismatch',
      'the Proof-of-Possession token is not bound to this key (its cnf.kid differs)',
    )
  }
}

function boundKeyId(accessToken: string): unknown {
  try {
    const claims = JSON.parse(
      Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { cnf?: { kid?: unknown } }
    return claims.cnf?.kid
  } catch {
    return undefined
  }
}

/**
 * The result the caller presents: the SHR in place of the access token, `token_type` "pop", as
 * MSAL returns it. The SHR carries the token (`at`), the time, method, host, path and nonce, and
 * the public key (`cnf.jwk`) the resource checks its signature with.
 */
export async function signedHttpRequest(
  result: AuthenticationResult,
  key: PopKey,
  scheme: PopAuthScheme,
  now: number,
): Promise<AuthenticationResult> {
  const { SignJWT } = await import('jose')
  const url = new URL(scheme.url)
  const shr = await new SignJWT({
    at: result.access_token,
    ts: now,
    m: scheme.httpMethod,
    u: url.host,
    p: url.pathname,
    // Without the resource's nonce a fresh one makes every SHR unique, so none can be replayed as
    // another run's (RS256 signing is deterministic).
    nonce: scheme.nonce ?? randomUUID(),
    cnf: { jwk: key.publicJwk },
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'pop', kid: key.kid })
    .sign(key.privateKey)
  return { ...result, access_token: shr, token_type: 'pop' }
}

/** The result as the caller asked for it: a PoP token presented as its SHR, a bearer token as is. */
export async function presented(
  result: AuthenticationResult,
  popKey: PopKey | undefined,
  scheme: PopAuthScheme | undefined,
  clock: Clock,
): Promise<AuthenticationResult> {
  return popKey && scheme ? signedHttpRequest(result, popKey, scheme, clock()) : result
}
