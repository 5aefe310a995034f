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
