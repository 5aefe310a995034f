import type { PopKey } from '../credentials/pop-key.js'
import { targetOf } from '../protocol/scopes.js'
import { claimsFor, type GrantContext, userScopesFor } from './context.js'
import type { UserGrant } from './redeem.js'
import { apiIds } from './token-request.js'

export interface RefreshRequest {
  homeAccountId: string
  claimsChallenge: string | undefined
  /** Why the cached token would not do (MSAL's refresh_reason). */
  reason: number
  popKey: PopKey | undefined
  correlationId: string | undefined
}

/** Silent acquisition's grant: a cached refresh token of the account redeemed for `scopes`. */
export function refreshGrant(
  context: GrantContext,
  refreshToken: string,
  scopes: readonly string[],
  request: RefreshRequest,
): UserGrant {
  // A generic OpenID provider may grant offline_access only with prompt=consent (OIDC Core
  // §11) and then refuses it on refresh; the refresh token is already in hand, so it is not asked.
  const decorated = userScopesFor(context, scopes).filter(
    (scope) => context.authority.kind !== 'oidc' || scope !== 'offline_access',
  )
  return {
    form: {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: targetOf(decorated),
      claims: claimsFor(context, request.claimsChallenge),
    },
    apiId: apiIds.silent,
    refreshReason: request.reason,
    scopes: decorated,
    grantType: 'refresh_token',
    anchor: `Oid:${request.homeAccountId.replace('.', '@')}`,
    ...(request.popKey ? { popKey: request.popKey } : {}),
    ...(request.correlationId ? { correlationId: request.correlationId } : {}),
  }
}
