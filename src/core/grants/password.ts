import type { PopKey } from '../credentials/pop-key.js'
import { InteractionRequiredError, RuntimeFailure } from '../kernel/errors.js'
import { targetOf } from '../protocol/scopes.js'
import { claimsFor, type GrantContext, userScopesFor } from './context.js'
import type { UserGrant } from './redeem.js'
import { apiIds, refreshReasons } from './token-request.js'

/**
 * ROPC. Federated accounts are refused before the password is sent: user realm discovery says
 * where the account signs in.
 */
export async function passwordGrant(
  context: GrantContext,
  username: string,
  password: string,
  scopes: readonly string[],
  options: { claimsChallenge?: string; maxAge?: number; popKey?: PopKey },
): Promise<UserGrant> {
  const decorated = userScopesFor(context, scopes)
  if (context.authority.kind === 'aad') {
    await refuseFederated(context, username)
  }
  return {
    form: {
      grant_type: 'password',
      username,
      password,
      scope: targetOf(decorated),
      claims: claimsFor(context, options.claimsChallenge),
    },
    apiId: apiIds.usernamePassword,
    refreshReason: refreshReasons.notSilent,
    scopes: decorated,
    grantType: 'password',
    username,
    anchor: `upn:${username}`,
    ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
    ...(options.popKey ? { popKey: options.popKey } : {}),
  }
}

/** Entra's user realm discovery says whether the account signs in at its own (federated) provider. */
async function refuseFederated(context: GrantContext, username: string): Promise<void> {
  const url = `${context.authority.scheme}//${context.authority.host}/common/userrealm/${encodeURIComponent(username)}?api-version=1.0`
  const response = await context.http().request({
    method: 'GET',
    url,
    headers: { accept: 'application/json' },
  })
  const realm = userRealmOf(response.status, response.body)
  if (realm['account_type'] === 'Federated') {
    throw new InteractionRequiredError(
      'federated_account',
      'this account signs in at its own identity provider (federated), where a password grant is not supported',
      { hint: 'interactive_sign_in' },
    )
  }
}

/**
 * What user realm discovery said: nothing on a 404 (the host has no such endpoint, as MSAL takes
 * it), otherwise a JSON object whose `account_type` is a string; anything else is refused rather
 * than guessed at, since a wrong guess decides where the password goes.
 */
function userRealmOf(status: number, text: string): Record<string, unknown> {
  if (status === 404) {
    return {}
  }
  let realm: unknown
  try {
    realm = status >= 200 && status < 300 ? JSON.parse(text) : undefined
  } catch {
    realm = undefined
  }
  if (
    typeof realm !== 'object' ||
    realm === null ||
    Array.isArray(realm) ||
    !['string', 'undefined'].includes(typeof (realm as Record<string, unknown>)['account_type'])
  ) {
    throw new RuntimeFailure(
      'invalid_response',
      `user realm discovery answered ${status} with no account type`,
    )
  }
  return realm as Record<string, unknown>
}
