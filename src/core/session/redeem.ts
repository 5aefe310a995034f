import type { Endpoints } from '../authority/discovery.js'
import { type RedeemedGrant, redeemGrant, type UserGrant } from '../grants/redeem.js'
import { homeAccountIdOf } from '../protocol/client-info.js'
import type { AuthenticationResult } from '../protocol/result.js'
import { fromResponse } from '../protocol/token-response.js'
import type { RefreshTokenEntry } from '../token-cache/schema.js'
import { accountIn } from './accounts.js'
import type { AppContext } from './app-context.js'
import { updateCache } from './single-flight.js'

/** A user grant, and how its answer joins the cache. */
export interface CachedGrant extends UserGrant {
  /** The refresh token the grant redeemed: a new one replaces its secret in place. */
  redeemedRefreshToken?: RefreshTokenEntry
  /** Silent refreshes never create accounts, so a concurrent sign-out holds. */
  skipAccountCreation?: boolean
}

/** Redeems a user grant and stores its tokens and account, under the cache lock. */
export async function redeemUserGrant(
  app: AppContext,
  grant: CachedGrant,
): Promise<AuthenticationResult> {
  const endpoints = await app.endpoints()
  return updateCache(app, () => redeem(app, grant, endpoints))
}

/** The grant, then its cache entries. A refused ID token stores nothing. */
export async function redeem(
  app: AppContext,
  grant: CachedGrant,
  endpoints: Endpoints,
): Promise<AuthenticationResult> {
  const { response, claims, now } = await redeemGrant(app, grant, endpoints)
  app.tokenCache.add({
    clientId: app.clientId,
    environment: app.authority.instance,
    realm: endpoints.realm,
    scopes: grant.scopes,
    response,
    ...(claims ? { idTokenClaims: claims } : {}),
    grantType: grant.grantType,
    ...(grant.username !== undefined ? { username: grant.username } : {}),
    ...(grant.redeemedRefreshToken ? { redeemedRefreshToken: grant.redeemedRefreshToken } : {}),
    ...(grant.userAssertionHash !== undefined
      ? { userAssertionHash: grant.userAssertionHash }
      : {}),
    ...(grant.skipAccountCreation ? { skipAccountCreation: true } : {}),
    ...(grant.popKey ? { keyId: grant.popKey.kid } : {}),
    now,
  })
  const homeAccountId = homeAccountIdOf(response.client_info, claims)
  const account =
    homeAccountId === null ? undefined : accountIn(app, homeAccountId, endpoints.realm)
  return {
    ...fromResponse(response, grant.scopes, now),
    ...(claims ? { id_token_claims: claims } : {}),
    ...(account ? { account } : {}),
  }
}

/** An app-only token (client credentials) joins the cache; there is no account. */
export function storeAppToken(
  app: AppContext,
  endpoints: Endpoints,
  scopes: readonly string[],
  redeemed: Omit<RedeemedGrant, 'claims'>,
): AuthenticationResult {
  app.tokenCache.add({
    clientId: app.clientId,
    environment: app.authority.instance,
    realm: endpoints.realm,
    scopes,
    response: redeemed.response,
    grantType: 'client_credentials',
    now: redeemed.now,
  })
  return fromResponse(redeemed.response, scopes, redeemed.now)
}
