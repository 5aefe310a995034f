import { parseAuthority } from '../authority/authority.js'
import { discoverEndpoints } from '../authority/discovery.js'
import { isSafeUrl } from '../http/endpoint-url.js'
import { quoted } from '../kernel/quoted.js'
import type { HttpClient } from '../http/types.js'
import { MsalTsError, RuntimeFailure, UsageError } from '../kernel/errors.js'
import { keySet } from './id-token-signature.js'
import type { errors as joseErrors } from 'jose'

/** A JWT taken apart, nothing checked: what `decode` shows. */
export interface DecodedJwt {
  readonly token: string
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
}

/** Where a verified token's key came from. */
export interface Verification {
  readonly issuer: string
  readonly jwksUri: string
  readonly kid?: string
}

/**
 * The header and claims of a signed JWT (JWS compact form). Anything else is refused in one line
 * that never repeats the input, which may be a secret pasted by mistake.
 */
export async function decodeJwt(token: string): Promise<DecodedJwt> {
  const jose = await import('jose')
  const parts = token.split('.')
  if (parts.length === 5) {
    throw new UsageError(
      'invalid_token',
      'this is an encrypted token (JWE): only its audience can read it',
    )
  }
  let decoded: DecodedJwt
  try {
    decoded = {
      token,
      header: { ...jose.decodeProtectedHeader(token) },
      claims: jose.decodeJwt(token),
    }
  } catch {
    throw new UsageError(
      'invalid_token',
      'the input is not a JWT: three base64url parts (header, claims, signature) joined by dots, the first two JSON objects',
    )
  }
  if (depthOf(decoded.header) > maxNesting || depthOf(decoded.claims) > maxNesting) {
    throw new UsageError(
      'invalid_token',
      `the token nests objects or arrays more than ${maxNesting} deep: no issuer does that`,
    )
  }
  return decoded
}

/** Far deeper than any real claim, far shallower than what overflows the stack of whatever prints it. */
const maxNesting = 64

/** How deep objects and arrays nest in a parsed JSON value, counted without recursion. */
function depthOf(root: unknown): number {
  let deepest = 0
  const pending: [unknown, number][] = [[root, 1]]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, depth] = next
    if (typeof value === 'object' && value !== null) {
      deepest = Math.max(deepest, depth)
      for (const child of Object.values(value)) {
        pending.push([child, depth + 1])
      }
    }
  }
  return deepest
}

/**
 * Checks the token's signature against the keys its issuer publishes: the issuer's discovery
 * document (`<iss>/.well-known/openid-configuration`, https or loopback http only, checked as
 * every discovery answer is), then its `jwks_uri`. Only those two GETs are made; the token itself
 * is never sent. Each failure is a RuntimeFailure saying why.
 */
export async function verifyJwt(decoded: DecodedJwt, http: HttpClient): Promise<Verification> {
  const issuer = issuerOf(decoded)
  const jwksUri = await keySetUrl(issuer, http)
  const jose = await import('jose')
  const verify = async ({ fresh }: { fresh: boolean }) =>
    jose.jwtVerify(decoded.token, jose.createLocalJWKSet(await keySet(http, jwksUri, { fresh })))
  try {
    try {
      await verify({ fresh: false })
    } catch (error) {
      if (!(error instanceof jose.errors.JWKSNoMatchingKey)) {
        throw error
      }
      // The issuer may have rotated its keys since a cached key set was fetched.
      await verify({ fresh: true })
    }
  } catch (error) {
    throw verificationFailure(error, decoded, jwksUri, jose.errors)
  }
  const kid = decoded.header['kid']
  return { issuer, jwksUri, ...(typeof kid === 'string' ? { kid } : {}) }
}

function issuerOf(decoded: DecodedJwt): string {
  const issuer = decoded.claims['iss']
  if (typeof issuer !== 'string' || issuer === '') {
    throw new RuntimeFailure(
      'unverifiable_token',
      'the token names no issuer (iss), so there is no key set to check it against',
    )
  }
  if (!isSafeUrl(issuer)) {
    throw new RuntimeFailure(
      'unverifiable_token',
      `the issuer ${quoted(issuer)} is not an https URL (http only on loopback hosts): its keys are not fetched`,
    )
  }
  return issuer
}

/** The issuer's `jwks_uri`, from a discovery document that names this very issuer. */
async function keySetUrl(issuer: string, http: HttpClient): Promise<string> {
  const authority = parseAuthority(issuer.replace(/\/+$/, ''), { oidc: true })
  let endpoints
  try {
    endpoints = await discoverEndpoints(http, authority, {
      instanceDiscovery: false,
      validateAuthority: false,
    })
  } catch (error) {
    if (error instanceof MsalTsError && error.kind !== 'cancelled') {
      throw new RuntimeFailure(
        error.code,
        `cannot fetch the keys of the issuer: ${error.message}`,
        { cause: error, ...(error.hint ? { hint: error.hint } : {}) },
      )
    }
    throw error
  }
  // Discovery lets an Entra issuer differ in its path (the `{tenantid}` template); a token's keys
  // must come from the document of its own issuer.
  if (endpoints.issuer?.replace(/\/+$/, '') !== issuer.replace(/\/+$/, '')) {
    throw new RuntimeFailure(
      'invalid_issuer',
      `the discovery document of ${quoted(issuer)} names another issuer (${quoted(endpoints.issuer ?? '')}): its keys do not speak for this token`,
    )
  }
  if (endpoints.jwksUri === undefined) {
    throw new RuntimeFailure(
      'unverifiable_token',
      `the issuer ${quoted(issuer)} publishes no jwks_uri, so the signature cannot be checked`,
    )
  }
  return endpoints.jwksUri
}

type JoseErrors = typeof joseErrors

function verificationFailure(
  error: unknown,
  decoded: DecodedJwt,
  jwksUri: string,
  errors: JoseErrors,
): unknown {
  if (error instanceof MsalTsError) {
    return error
  }
  if (error instanceof errors.JWTExpired) {
    return new RuntimeFailure(
      'token_expired',
      `the signature is valid, but the token expired at ${timeOf(decoded.claims['exp'])}`,
    )
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new RuntimeFailure(
      'token_not_valid',
      error.claim === 'nbf'
        ? `the signature is valid, but the token is not valid before ${timeOf(decoded.claims['nbf'])}`
        : `the signature is valid, but the claim ${error.claim} fails its check (${error.reason})`,
    )
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    const kid = decoded.header['kid']
    return new RuntimeFailure(
      'unknown_key',
      `the issuer's key set (${jwksUri}) holds no key ${typeof kid === 'string' ? quoted(kid) : 'without a kid'} for ${quoted(String(decoded.header['alg']))}`,
    )
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'nonce' in decoded.header
      ? new RuntimeFailure(
          'unverifiable_token',
          'the token has a nonce in its header, as Entra gives tokens for Microsoft Graph: Graph changes that header before it checks the signature, so no one else can verify it. It is meant for Graph alone; decode is all you can do with it',
        )
      : new RuntimeFailure(
          'invalid_signature',
          `the signature does not match the issuer's key: the token was changed, or signed by someone else`,
        )
  }
  if (error instanceof errors.JOSEError) {
    return new RuntimeFailure('invalid_signature', `the token cannot be verified: ${error.message}`)
  }
  // Node's crypto refuses a key whose parameters are malformed (an RSA key without a usable
  // modulus, say) with a plain TypeError or a WebCrypto DOMException: the fault is the issuer's.
  if (!(error instanceof TypeError || error instanceof DOMException)) {
    return error
  }
  return new RuntimeFailure(
    'invalid_key_set',
    `the issuer's key set (${jwksUri}) holds a key that cannot be used: its parameters are malformed`,
    { cause: error },
  )
}

function timeOf(seconds: unknown): string {
  return typeof seconds === 'number' && Number.isFinite(seconds)
    ? new Date(seconds * 1000).toISOString()
    : String(seconds)
}
