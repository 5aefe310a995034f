import { createHash } from 'node:crypto'
import { UsageError } from '../kernel/errors.js'
import { targetOf } from '../protocol/scopes.js'
import { claimsFor, type GrantContext, userScopesFor } from './context.js'
import type { UserGrant } from './redeem.js'
import { apiIds, refreshReasons } from './token-request.js'

/** The hash of an incoming assertion, which the tokens bought with it are kept under (msal-node's). */
export function userAssertionHashOf(userAssertion: string): string {
  if (!userAssertion.trim()) {
    throw new UsageError('invalid_assertion', 'the user assertion is empty')
  }
  return createHash('sha256').update(userAssertion.trim()).digest('base64url')
}

/** On-behalf-of: a middle tier trades the token its caller sent for one to a downstream API. */
export function onBehalfOfGrant(
  context: GrantContext,
  userAssertion: string,
  scopes: readonly string[],
  request: { claimsChallenge: string | undefined; forced: boolean },
): UserGrant {
  const decorated = userScopesFor(context, scopes)
  return {
    form: {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: userAssertion.trim(),
      requested_token_use: 'on_behalf_of',
      scope: targetOf(decorated),
      claims: claimsFor(context, request.claimsChallenge),
    },
    apiId: apiIds.onBehalfOf,
    refreshReason: request.forced ? refreshReasons.forced : refreshReasons.absent,
    scopes: decorated,
    grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    userAssertionHash: userAssertionHashOf(userAssertion),
  }
}
