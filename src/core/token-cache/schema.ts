/**
 * MSAL's unified token cache, as it is on disk: snake_case fields, epoch seconds as strings.
 * These are also the in-memory types; fields we do not know are kept as they are.
 */

export type CredentialType = 'AccessToken' | 'RefreshToken' | 'IdToken'

interface Unknown {
  [field: string]: unknown
}

export interface AccessTokenEntry extends Unknown {
  /**
   * msal-node's second type holds tokens of another scheme than Bearer (PoP), `key_id` naming the
   * key. msal-ts keeps its own in `popSection`, never in `AccessToken`.
   */
  credential_type: 'AccessToken' | 'AccessToken_With_AuthScheme'
  secret: string
  /** null for app-only tokens (MSAL Python); msal-node writes "" there. */
  home_account_id: string | null
  environment: string
  client_id: string
  realm: string
  target: string
  token_type?: string
  cached_at: string
  expires_on: string
  extended_expires_on?: string
  refresh_on?: string
  key_id?: string
}

export interface RefreshTokenEntry extends Unknown {
  credential_type: 'RefreshToken'
  secret: string
  home_account_id: string
  environment: string
  client_id: string
  target?: string
  last_modification_time?: string
  family_id?: string
}

export interface IdTokenEntry extends Unknown {
  credential_type: 'IdToken'
  secret: string
  home_account_id: string
  environment: string
  realm: string
  client_id: string
}

export interface AccountEntry extends Unknown {
  home_account_id: string
  environment: string
  realm: string
  local_account_id: string
  username: string
  authority_type: string
  account_source?: string
}

export interface AppMetadataEntry extends Unknown {
  client_id: string
  environment: string
  family_id?: string
}

export interface CacheDocument {
  AccessToken: Record<string, AccessTokenEntry>
  RefreshToken: Record<string, RefreshTokenEntry>
  IdToken: Record<string, IdTokenEntry>
  Account: Record<string, AccountEntry>
  AppMetadata: Record<string, AppMetadataEntry>
  /** msal-ts's PoP tokens, made only when there is one: see `popSection`. */
  AccessToken_With_AuthScheme?: Record<string, AccessTokenEntry>
  [section: string]: unknown
}

/**
 * msal-ts's PoP access tokens live in a top-level section of their own, in msal-node's entry shape
 * and key format. MSAL Python looks access tokens up without regard to their type, so a PoP token
 * in `AccessToken` could be handed to one of its apps as a bearer token; it and msal-node keep a
 * section they do not know as it is. The tokens are bound to msal-ts's key: no other library could
 * use them anyway.
 */
export const popSection = 'AccessToken_With_AuthScheme'

export const sections = [
  'AccessToken',
  'RefreshToken',
  'IdToken',
  'Account',
  'AppMetadata',
] as const

/** Why a JSON object is not a token cache: a known section that is not an object of entries. */
export function cacheDocumentProblem(document: Record<string, unknown>): string | undefined {
  const wrong = sections.find((section) => {
    const value = document[section]
    return (
      value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))
    )
  })
  return wrong === undefined ? undefined : `had a ${wrong} section that is not a JSON object`
}

/*
 * Entries come from a file anyone with the user's rights (or another library) may have written.
 * One that fails these checks is treated as absent, never served, and kept as it is in the file.
 */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const isString = (value: unknown): value is string => typeof value === 'string'

/**
 * A token as it can be printed and sent: not empty, printable ASCII as RFC 6749 has tokens (A.12,
 * A.17), so no control character to forge a line with and nothing a token answer would be refused
 * for (a U+FFFD where bytes were not text).
 */
const isClean = (value: unknown): value is string => isString(value) && /^[\x20-\x7e]+$/.test(value)

/**
 * The types msal-ts can use (RFC 6749 §7.1: never one it does not understand). Other libraries'
 * entries of another type (MSAL Python's `ssh-cert`) are left alone, as absent.
 */
const isUsableTokenType = (value: unknown): boolean =>
  isString(value) && /^(bearer|pop)$/i.test(value)

/** Integral epoch seconds: MSAL writes them as strings, a number is read as well. */
const isEpoch = (value: unknown): boolean =>
  isString(value) ? /^\d{1,15}$/.test(value) : Number.isSafeInteger(value) && Number(value) >= 0

const orNull = (value: unknown): boolean => value === undefined || value === null || isString(value)

type Check = (value: unknown) => boolean

/** Every listed field passes; `?` after a name lets it be absent. */
function fieldsPass(entry: Record<string, unknown>, check: Check, names: string): boolean {
  return names.split(' ').every((name) => {
    const optional = name.endsWith('?')
    const value = entry[optional ? name.slice(0, -1) : name]
    return (optional && value === undefined) || check(value)
  })
}

export function isAccessToken(entry: unknown): entry is AccessTokenEntry {
  return (
    isRecord(entry) &&
    isClean(entry['secret']) &&
    orNull(entry['home_account_id']) &&
    fieldsPass(
      entry,
      isString,
      'environment client_id realm target key_id? user_assertion_hash?',
    ) &&
    fieldsPass(entry, isUsableTokenType, 'token_type?') &&
    fieldsPass(entry, isEpoch, 'expires_on cached_at? extended_expires_on? refresh_on?')
  )
}

export function isRefreshToken(entry: unknown): entry is RefreshTokenEntry {
  return (
    isRecord(entry) &&
    isClean(entry['secret']) &&
    orNull(entry['family_id']) &&
    fieldsPass(
      entry,
      isString,
      'home_account_id environment client_id target? user_assertion_hash?',
    ) &&
    fieldsPass(entry, isEpoch, 'last_modification_time?')
  )
}

export function isIdToken(entry: unknown): entry is IdTokenEntry {
  return (
    isRecord(entry) &&
    isClean(entry['secret']) &&
    fieldsPass(entry, isString, 'home_account_id environment realm client_id')
  )
}

export function isAccount(entry: unknown): entry is AccountEntry {
  return (
    isRecord(entry) &&
    orNull(entry['account_source']) &&
    fieldsPass(
      entry,
      isString,
      'home_account_id environment realm local_account_id username authority_type name?',
    )
  )
}

export function isAppMetadata(entry: unknown): entry is AppMetadataEntry {
  return (
    isRecord(entry) &&
    orNull(entry['family_id']) &&
    fieldsPass(entry, isString, 'client_id environment')
  )
}
