import { type AppContext, claimsFor, userScopesFor } from '../app-context.js'
import { InteractionRequiredError } from '../errors.js'
import { type PopAuthScheme, presented } from '../pop.js'
import type { AuthenticationResult } from '../result.js'
import { targetOf } from '../scopes.js'
import { redeemUserGrant } from './redeem.js'
import { apiIds, refreshReasons } from './token-request.js'

export async function redeemPassword(
  app: AppContext,
  username: string,
  password: string,
  scopes: readonly string[],
  options: { claimsChallenge?: string; authScheme?: PopAuthScheme; maxAge?: number },
): Promise<AuthenticationResult> {
  const decorated = userScopesFor(app, scopes)
  const popKey = await app.popKeyFor(options.authScheme)
  if (app.authority.kind === 'aad') {
    await refuseFederated(app, username)
  }
  const result = await redeemUserGrant(app, {
    form: {
      grant_type: 'password',
      username,
      password,
      scope: targetOf(decorated),
      claims: claimsFor(app, options.claimsChallenge),
    },
    apiId: apiIds.usernamePassword,
    refreshReason: refreshReasons.notSilent,
    scopes: decorated,
    grantType: 'password',
    username,
    anchor: `upn:${username}`,
    ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
    ...(popKey ? { popKey } : {}),
  })
  return presented(result, popKey, options.authScheme, app.clock)
}

/** Entra's user realm discovery says whether the account signs in at its own (federated) provider. */
async function refuseFederated(app: AppContext, username: string): Promise<void> {
  const url = `${app.authority.scheme}//${app.authority.host}/common/userrealm/${encodeURIComponent(username)}?api-version=1.0`
  const response = await app.http().request({
    method: 'GET',
    url,
    headers: { accept: 'application/json' },
  })
  let realm: Record<string, unknown> = {}
  try {
    realm = response.status === 200 ? (JSON.parse(response.body) as Record<string, unknown>) : {}
  } catch {
    realm = {}
  }
  if (realm['account_type'] === 'Federated') {
    throw new InteractionRequiredError(
      'federated_account',
      'this account signs in at its own identity provider (federated), where a password grant is not supported: use msal-ts login (browser) or --device-code',
    )
  }
}
