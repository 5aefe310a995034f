import { accountIn } from '../session/accounts.js'
import { type AppContext, appHeadersFor } from '../session/app-context.js'
import type { Endpoints } from '../authority/discovery.js'
import { verifyIdTokenSignature } from '../protocol/id-token-signature.js'
import { checkIdToken, decodeIdToken } from '../protocol/id-token.js'
import { checkPopResponse, popRequestForm } from '../protocol/pop.js'
import type { PopKey } from '../credentials/pop-key.js'
import type { AuthenticationResult } from '../protocol/result.js'
import { updateCache } from '../session/single-flight.js'
import { homeAccountIdOf } from '../protocol/client-info.js'
import type { RefreshTokenEntry } from '../token-cache/schema.js'
import { fromResponse } from '../protocol/token-response.js'
import { compactForm, requestToken } from './token-request.js'

/** How a user grant is redeemed and what is checked on the way back. */
export interface UserGrant {
  form: Record<string, string | undefined>
  apiId: number
  refreshReason: number
  /** The decorated scopes sent; the cache target when the answer has no `scope`. */
  scopes: readonly string[]
  grantType: string
  /** The `nonce` claim the ID token must carry (MSAL sends the hash of the flow's nonce). */
  nonceClaim?: string
  maxAge?: number
  username?: string
  redeemedRefreshToken?: RefreshTokenEntry
  skipAccountCreation?: boolean
  /** The caller's `client-request-id`; a fresh one when absent. */
  correlationId?: string
  /** Routes the request to the account's home (X-AnchorMailbox). */
  anchor?: string
  /** On-behalf-of: the hash of the incoming assertion the tokens are kept under. */
  userAssertionHash?: string
  /** Ask for a Proof-of-Possession token bound to this key. */
  popKey?: PopKey
}

/** Redeems a user grant and stores its tokens and account, under the cache lock. */
export async function redeemUserGrant(
  app: AppContext,
  grant: UserGrant,
): Promise<AuthenticationResult> {
  const endpoints = await app.endpoints()
  return updateCache(app, () => redeem(app, grant, endpoints))
}

/** The grant itself: request, ID token checks, cache entries. A refused ID token stores nothing. */
export async function redeem(
  app: AppContext,
  grant: UserGrant,
  endpoints: Endpoints,
): Promise<AuthenticationResult> {
  const now = app.clock()
  const auth = await app.clientAuthentication(endpoints)
  const form = compactForm({
    ...grant.form,
    ...(grant.popKey ? popRequestForm(grant.popKey) : {}),
    client_id: app.clientId,
    client_info: '1',
    ...auth.form,
  })
  const response = await requestToken(app.http(), endpoints.tokenEndpoint, form, {
    now,
    apiId: grant.apiId,
    refreshReason: grant.refreshReason,
    ...(grant.correlationId ? { correlationId: grant.correlationId } : {}),
    ...appHeadersFor(app),
    extraHeaders: {
      ...auth.headers,
      ...(grant.anchor ? { 'x-anchormailbox': grant.anchor } : {}),
    },
  })
  if (grant.popKey) {
    checkPopResponse(response, grant.popKey)
  }
  const claims = response.id_token ? decodeIdToken(response.id_token) : undefined
  if (response.id_token && app.authority.kind === 'oidc') {
    await verifyIdTokenSignature(response.id_token, app.http(), endpoints)
  }
  if (claims) {
    checkIdToken(claims, {
      clientId: app.clientId,
      ...(endpoints.issuer && app.options.validateAuthority !== false
        ? { issuer: endpoints.issuer }
        : {}),
      ...(grant.nonceClaim !== undefined ? { nonceClaim: grant.nonceClaim } : {}),
      ...(grant.maxAge !== undefined ? { maxAge: grant.maxAge } : {}),
      now,
    })
  }
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
