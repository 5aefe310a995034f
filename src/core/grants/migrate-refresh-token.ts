import { targetOf } from '../protocol/scopes.js'
import { claimsFor, type GrantContext, userScopesFor } from './context.js'
import type { UserGrant } from './redeem.js'
import { apiIds, refreshReasons } from './token-request.js'

/** The given refresh token is sent, never cached; what it buys (tokens, account) is. */
export function migrationGrant(
  context: GrantContext,
  refreshToken: string,
  scopes: readonly string[],
): UserGrant {
  const decorated = userScopesFor(context, scopes)
  return {
    form: {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: targetOf(decorated),
      // As msal-node does: the capabilities go on every grant, this one included.
      claims: claimsFor(context, undefined),
    },
    apiId: apiIds.byRefreshToken,
    refreshReason: refreshReasons.forced,
    scopes: decorated,
    grantType: 'refresh_token',
  }
}
