import { type AppContext, claimsFor, userScopesFor } from '../session/app-context.js'
import type { AuthenticationResult } from '../protocol/result.js'
import { targetOf } from '../protocol/scopes.js'
import { redeemUserGrant } from './redeem.js'
import { apiIds, refreshReasons } from './token-request.js'

/** The given refresh token is sent, never cached; what it buys (tokens, account) is. */
export async function migrateRefreshToken(
  app: AppContext,
  refreshToken: string,
  scopes: readonly string[],
): Promise<AuthenticationResult> {
  const decorated = userScopesFor(app, scopes)
  return redeemUserGrant(app, {
    form: {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: targetOf(decorated),
      // As msal-node does: the capabilities go on every grant, this one included.
      claims: claimsFor(app, undefined),
    },
    apiId: apiIds.byRefreshToken,
    refreshReason: refreshReasons.forced,
    scopes: decorated,
    grantType: 'refresh_token',
  })
}
