import { RuntimeFailure } from '../kernel/errors.js'
import type { AuthenticationResult } from './result.js'
import { controlCharacter } from '../kernel/control-characters.js'
import { quoted } from '../kernel/quoted.js'

/** A token endpoint's successful answer: what the cache keeps and the caller's result is made of. */
export interface TokenResponse {
  token_type?: string
  access_token: string
  expires_in?: number | string
  ext_expires_in?: number | string
  expires_on?: number | string
  refresh_in?: number | string
  scope?: string
  refresh_token?: string
  id_token?: string
  client_info?: string
  foci?: string
  [field: string]: unknown
}

/** The caller's result for a token endpoint answer; `requested` stands in when it has no `scope`. */
export function fromResponse(
  response: TokenResponse,
  requested: readonly string[],
  now: number,
): AuthenticationResult {
  const expiresIn = Number(response.expires_in ?? 600)
  const extIn = response.ext_expires_in === undefined ? undefined : Number(response.ext_expires_in)
  const refreshIn = response.refresh_in === undefined ? undefined : Number(response.refresh_in)
  return {
    access_token: response.access_token,
    token_type: response.token_type ?? 'Bearer',
    expires_in: expiresIn,
    expires_on: now + expiresIn,
    ...(extIn !== undefined ? { ext_expires_on: now + extIn } : {}),
    ...(refreshIn !== undefined ? { refresh_on: now + refreshIn } : {}),
    scope: response.scope ? response.scope.split(/\s+/).filter(Boolean) : [...requested],
    token_source: 'identity_provider',
  }
}

/** `Oid:<uid>@<utid>`: routes a redemption to the account's home tenant. */
export function anchorOf(clientInfo: string): string | undefined {
  try {
    const info = JSON.parse(Buffer.from(clientInfo, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >
    return typeof info['uid'] === 'string' && typeof info['utid'] === 'string'
      ? `Oid:${info['uid']}@${info['utid']}`
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Ten years. Entra's longest lifetime (a managed identity token) is a day and other providers stay
 * within weeks, so nothing real is refused; `now` plus this stays a safe integer, a valid date, and
 * an integral epoch that MSAL Python reads back from the shared cache.
 */
export const maxLifetimeSeconds = 10 * 365 * 24 * 3600

/** A token response whose lifetimes are whole seconds. */
export type CheckedTokenResponse = TokenResponse & {
  expires_in?: number
  ext_expires_in?: number
  refresh_in?: number
}

export interface TokenAnswerContext {
  /** Who answered, as the error line names it: a host, or a managed identity source. */
  from: string
  /** The `token_type` the request asked for; `Bearer` when it asked for none. */
  asked?: string | undefined
  /** For an `expires_on` sent instead of `expires_in`. */
  now: number
}

const printableAscii = /^[\x20-\x7e]*$/

/**
 * A token endpoint's success answer, checked field by field before anything is cached or printed,
 * and normalised: lifetimes as whole seconds (Entra's v1 endpoints send numeric strings; managed
 * identity sources may send only `expires_on`), the other fields kept only as strings. A bad field
 * is a RuntimeFailure naming it; unknown fields are left behind, as nothing reads them.
 */
export function checkTokenResponse(
  body: Record<string, unknown>,
  context: TokenAnswerContext,
): CheckedTokenResponse {
  const refuse = (what: string) =>
    new RuntimeFailure('invalid_response', `${context.from} answered ${what}`)
  const accessToken = body['access_token']
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw refuse('without an access token')
  }
  if (controlCharacter.test(accessToken)) {
    throw refuse('an access token holding a control character')
  }
  // RFC 6749 (A.12, A.17) allows tokens only printable ASCII; anything else is damage on the way,
  // such as bytes that were not UTF-8 and were decoded as U+FFFD, which must not be used or cached.
  if (!printableAscii.test(accessToken)) {
    throw refuse('an access token holding a character other than printable ASCII')
  }
  const tokenType = checkTokenType(present(body['token_type']), context)
  const strings: Record<string, string> = {}
  for (const name of ['refresh_token', 'id_token', 'client_info', 'scope', 'foci']) {
    const value = present(body[name])
    if (value !== undefined && typeof value !== 'string') {
      throw refuse(`a ${name} that is not a string`)
    }
    if (name === 'refresh_token' && value !== undefined && !printableAscii.test(value)) {
      throw refuse('a refresh_token holding a character other than printable ASCII')
    }
    // The scope is cached as the token's target and printed beside it (-o env, -o json).
    if (name === 'scope' && value !== undefined && controlCharacter.test(value)) {
      throw refuse('a scope holding a control character')
    }
    if (value !== undefined) {
      strings[name] = value
    }
  }
  const seconds = (name: string, relativeTo = 0): number | undefined => {
    const value = present(body[name])
    if (value === undefined) {
      return undefined
    }
    const whole = wholeNumber(value)
    const lifetime = whole === undefined ? undefined : whole - relativeTo
    if (lifetime === undefined || lifetime < 1 || lifetime > maxLifetimeSeconds) {
      throw refuse(`${name} ${quotedField(value)}, not a lifetime between 1 s and 10 years`)
    }
    return lifetime
  }
  // As MSAL: `expires_in` first, else `expires_on - now`, else (downstream) 600.
  const expiresIn = seconds('expires_in') ?? seconds('expires_on', context.now)
  const extExpiresIn = seconds('ext_expires_in')
  const refreshIn = seconds('refresh_in')
  return {
    access_token: accessToken,
    ...(tokenType !== undefined ? { token_type: tokenType } : {}),
    ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}),
    ...(extExpiresIn !== undefined ? { ext_expires_in: extExpiresIn } : {}),
    ...(refreshIn !== undefined ? { refresh_in: refreshIn } : {}),
    ...strings,
  }
}

/**
 * RFC 6749 §7.1: a client must not use a token whose type it does not understand, and a token of
 * another type than asked for is not what it asked for. A missing type is Bearer, as MSAL reads it.
 */
function checkTokenType(sent: unknown, context: TokenAnswerContext): string | undefined {
  const asked = context.asked ?? 'Bearer'
  if (sent !== undefined && (typeof sent !== 'string' || controlCharacter.test(sent))) {
    throw new RuntimeFailure(
      'invalid_response',
      `${context.from} answered a token_type that is not a plain string`,
    )
  }
  if ((sent ?? 'Bearer').toLowerCase() === asked.toLowerCase()) {
    return sent
  }
  if (asked.toLowerCase() === 'pop') {
    throw new RuntimeFailure(
      'pop_not_issued',
      `${context.from} answered a ${quotedField(sent ?? 'Bearer')} token to a Proof-of-Possession request`,
    )
  }
  throw new RuntimeFailure(
    'invalid_response',
    `${context.from} answered a token of type ${quotedField(sent)} to a request for ${asked}`,
  )
}

/** JSON `null` is how some providers spell an absent field. */
function present(value: unknown): unknown {
  return value === null ? undefined : value
}

/** A number, or a string of digits as Entra's v1 endpoints send them, truncated as MSAL's `int()`. */
function wholeNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : undefined
}

/** A field's value in a refusal: a field is a short thing, so a long value is cut early. */
function quotedField(value: unknown): string {
  return quoted(value, { maxLength: 40 })
}
