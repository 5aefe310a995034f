import type { AppContext } from './app-context.js'
import type { ClientTokenOptions } from './client-options.js'
import { accountRealms } from '../token-cache/lookup.js'
import type { Endpoints } from '../authority/discovery.js'
import { OAuthServerError } from '../kernel/errors.js'
import { refreshGrant, type RefreshRequest } from '../grants/refresh.js'
import { type PopAuthScheme, presented } from '../protocol/pop.js'
import type { Account, AuthenticationResult } from '../protocol/result.js'
import { requiredScopes } from '../protocol/scopes.js'
import { redeem } from './redeem.js'
import { cachedOrFetched } from './single-flight.js'
import type { RefreshTokenEntry } from '../token-cache/schema.js'

export interface SilentOptions extends ClientTokenOptions {
  /** Sent as `client-request-id` on the refresh, to find the request in the provider's logs. */
  correlationId?: string
  /** A Proof-of-Possession token, presented as a Signed HTTP Request for this method and URL. */
  authScheme?: PopAuthScheme
}

export async function silentToken(
  app: AppContext,
  scopes: readonly string[],
  account: Account | null | undefined,
  options: SilentOptions,
): Promise<AuthenticationResult | undefined> {
  if (!account) {
    return undefined
  }
  const wanted = requiredScopes(scopes)
  const popKey = await app.popKeyFor(options.authScheme)
  const query = {
    clientId: app.clientId,
    environment: app.authority.instance,
    homeAccountId: account.home_account_id,
    scopes: wanted,
    ...(popKey ? { authScheme: 'pop' as const, keyId: popKey.kid } : {}),
  }
  const result = await cachedOrFetched(
    app,
    query,
    options,
    (endpoints, reason) =>
      redeemCachedRefreshToken(app, account, wanted, endpoints, {
        claimsChallenge: options.claimsChallenge,
        reason,
        popKey,
        correlationId: options.correlationId,
      }),
    accountRealms(app.authority, account),
  )
  return result && { ...(await presented(result, popKey, options.authScheme, app.clock)), account }
}

/** MSAL's refresh token order: family tokens (for an app new here, or of its family), then its own. */
async function redeemCachedRefreshToken(
  app: AppContext,
  account: Account,
  scopes: string[],
  endpoints: Endpoints,
  request: Omit<RefreshRequest, 'homeAccountId'>,
): Promise<AuthenticationResult | undefined> {
  const environment = app.authority.instance
  const home = account.home_account_id
  const familyId = app.tokenCache.appMetadata(app.clientId, environment)?.family_id
  const known = app.tokenCache.appMetadata(app.clientId, environment) !== undefined
  let familyError: unknown
  const attempt = async (rt: RefreshTokenEntry) =>
    redeem(
      app,
      {
        ...refreshGrant(app, rt.secret, scopes, { ...request, homeAccountId: home }),
        redeemedRefreshToken: rt,
        skipAccountCreation: true,
      },
      endpoints,
    )
  if (!known || familyId) {
    for (const rt of app.tokenCache.findRefreshTokens({
      environment,
      homeAccountId: home,
      familyId: familyId ?? '1',
    })) {
      if (rt.client_id === app.clientId) {
        continue
      }
      try {
        return await attempt(rt)
      } catch (error) {
        if (!(error instanceof OAuthServerError)) {
          throw error
        }
        if (known) {
          familyError = error
        }
        if (JSON.stringify(error.body).includes('client_mismatch')) {
          break
        }
      }
    }
  }
  const own = app.tokenCache.findRefreshTokens({
    environment,
    homeAccountId: home,
    clientId: app.clientId,
  })
  let ownError: unknown
  for (const rt of own) {
    try {
      return await attempt(rt)
    } catch (error) {
      if (!(error instanceof OAuthServerError)) {
        throw error
      }
      ownError = error
    }
  }
  if (ownError ?? familyError) {
    throw ownError ?? familyError
  }
  return undefined
}
