import { type Authority, isMultiTenant } from '../authority/authority.js'
import type { Account, AuthenticationResult } from '../protocol/result.js'
import type { AccessTokenEntry, AccountEntry } from './schema.js'
import type { AccessTokenQuery, SerializableTokenCache } from './token-cache.js'

/**
 * Reading the token cache the way silent acquisition does: no network and no crypto, so the
 * CLI's cache-hit path can use it without loading the rest of the engine.
 */

/** MSAL treats a token with less than five minutes left as expired. */
const expiryMargin = 300

export interface PickedToken {
  hit?: AuthenticationResult
  /** The cache entry the hit came from. */
  entry?: AccessTokenEntry
  /**
   * Until when (seconds) the same cache gives the same hit: its expiry less the margin, or its
   * refresh_on. Tokens before it in the cache were passed over for good (expired or excluded).
   */
  until?: number
  /** Past its refresh_on: to be refreshed, and served if the refresh fails. */
  aging?: AuthenticationResult
}

export function findAccessTokens(
  cache: SerializableTokenCache,
  query: Omit<AccessTokenQuery, 'realm'>,
  realms: readonly string[],
): AccessTokenEntry[] {
  return realms.flatMap((realm) => cache.findAccessTokens({ ...query, realm }))
}

/** The first usable access token; one whose refresh_on has passed is returned as `aging` instead. */
export function pickAccessToken(
  cache: SerializableTokenCache,
  query: Omit<AccessTokenQuery, 'realm'>,
  realms: readonly string[],
  options: { now: number; minValidity?: number; exclude?: ReadonlySet<string> },
): PickedToken {
  const margin = Math.max(expiryMargin, options.minValidity ?? 0)
  for (const at of findAccessTokens(cache, query, realms)) {
    if (Number(at.expires_on) - options.now < margin || options.exclude?.has(at.secret)) {
      continue
    }
    if (at.refresh_on !== undefined && Number(at.refresh_on) <= options.now) {
      return { aging: fromCache(at, options.now) }
    }
    const until = Math.min(Number(at.expires_on) - margin, Number(at.refresh_on ?? Infinity))
    return { hit: fromCache(at, options.now), entry: at, until }
  }
  return {}
}

/**
 * The realms a cached token of this authority may carry, known without a request: the tenant as
 * configured, and the tenant id a domain resolved to when the discovery answer is still cached.
 */
export function knownRealms(authority: Authority, cachedDiscovery: string | undefined): string[] {
  const realms = [authority.tenant]
  const tokenEndpoint = cachedDiscovery ? tokenEndpointOf(cachedDiscovery) : undefined
  // The cached document is read without discovery's checks: a token endpoint that is not a URL
  // only means no extra realm.
  const realm =
    tokenEndpoint !== undefined && URL.canParse(tokenEndpoint)
      ? new URL(tokenEndpoint).pathname.split('/').find(Boolean)
      : undefined
  if (realm && realm.toLowerCase() !== authority.tenant.toLowerCase()) {
    realms.push(realm)
  }
  return realms
}

/**
 * Whether the configured tenant is already the realm tokens carry (a tenant id, or one of Entra's
 * multi-tenant segments), so that no discovery answer can add one.
 */
export function tenantIdKnown(authority: Authority): boolean {
  return (
    /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i.test(authority.tenant) ||
    isMultiTenant(authority.tenant)
  )
}

/** Signed-in accounts of a host, one per home account, optionally by username (any case). */
export function accountsIn(
  cache: SerializableTokenCache,
  environment: string,
  username?: string,
): Account[] {
  const byHome = new Map<string, Account>()
  for (const entry of cache.accounts(environment)) {
    if (entry.authority_type === 'MSSTS' || entry.authority_type === 'ADFS') {
      byHome.set(entry.home_account_id, accountOf(entry))
    }
  }
  const accounts = [...byHome.values()]
  return username === undefined
    ? accounts
    : accounts.filter((a) => a.username.toLowerCase() === username.toLowerCase())
}

export function fromCache(at: AccessTokenEntry, now: number): AuthenticationResult {
  const expiresOn = Number(at.expires_on)
  return {
    access_token: at.secret,
    token_type: at.token_type ?? 'Bearer',
    expires_in: expiresOn - now,
    expires_on: expiresOn,
    ...(at.extended_expires_on !== undefined
      ? { ext_expires_on: Number(at.extended_expires_on) }
      : {}),
    ...(at.refresh_on !== undefined ? { refresh_on: Number(at.refresh_on) } : {}),
    scope: at.target.split(/\s+/).filter(Boolean),
    token_source: 'cache',
  }
}

export function accountOf(entry: AccountEntry): Account {
  return {
    home_account_id: entry.home_account_id,
    environment: entry.environment,
    username: entry.username,
    account_source: entry.account_source ?? null,
    authority_type: entry.authority_type,
    local_account_id: entry.local_account_id,
    realm: entry.realm,
  }
}

function tokenEndpointOf(body: string): string | undefined {
  try {
    const value: unknown = (JSON.parse(body) as Record<string, unknown>)['token_endpoint']
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * msal-node caches a user's tokens under the tenant id (`tid`) where MSAL Python uses the
 * authority's segment; for a multi-tenant authority the account's own tenant is the same token.
 */
export function accountRealms(authority: Authority, account: Account): string[] {
  return isMultiTenant(authority.tenant) ? [account.realm] : []
}
