import type {
  AccessTokenEntry,
  AccountEntry,
  AppMetadataEntry,
  IdTokenEntry,
  RefreshTokenEntry,
} from './schema.js'

/**
 * Cache keys exactly as MSAL Python writes them: fields joined by "-", missing ones empty,
 * lower-cased (AppMetadata keys excepted). Readers scan fields, so keys matter for writers only.
 */
function join(parts: readonly (string | null | undefined)[]): string {
  return parts.map((p) => p ?? '').join('-')
}

/**
 * A PoP (or other non-bearer) token is keyed as msal-node keys it: its own credential type, an
 * empty requested-claims hash and the scheme, so it never takes a bearer token's slot.
 */
export function accessTokenKey(at: AccessTokenEntry): string {
  if (at.credential_type === 'AccessToken_With_AuthScheme') {
    return join([
      at.home_account_id,
      at.environment,
      'accesstoken_with_authscheme',
      at.client_id,
      at.realm,
      at.target,
      '',
      at.token_type,
    ]).toLowerCase()
  }
  return join([
    at.home_account_id,
    at.environment,
    'accesstoken',
    at.client_id,
    at.realm,
    at.target,
  ]).toLowerCase()
}

/** The realm slot of a refresh token key is always empty: refresh tokens are tenant-independent. */
export function refreshTokenKey(rt: RefreshTokenEntry): string {
  return join([
    rt.home_account_id,
    rt.environment,
    'refreshtoken',
    rt.client_id,
    '',
    rt.target,
  ]).toLowerCase()
}

export function idTokenKey(idt: IdTokenEntry): string {
  return join([
    idt.home_account_id,
    idt.environment,
    'idtoken',
    idt.client_id,
    idt.realm,
    '',
  ]).toLowerCase()
}

export function accountKey(account: AccountEntry): string {
  return join([account.home_account_id, account.environment, account.realm]).toLowerCase()
}

export function appMetadataKey(meta: AppMetadataEntry): string {
  return `appmetadata-${meta.environment}-${meta.client_id}`
}
