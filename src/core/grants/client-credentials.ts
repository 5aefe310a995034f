import { randomUUID } from 'node:crypto'
import type { Endpoints } from '../authority/discovery.js'
import { appHeadersFor, claimsFor, type GrantContext } from './context.js'
import type { RedeemedGrant } from './redeem.js'
import { apiIds, compactForm, requestToken } from './token-request.js'

export interface ClientCredentialsRequest {
  scopes: readonly string[]
  claimsChallenge: string | undefined
  /** Why the cached token would not do (MSAL's refresh_reason). */
  reason: number
  /** The token endpoint to send to: the discovered one, or its region's host. */
  tokenEndpointFor(discovered: string): Promise<string>
}

/** An app-only token for the client itself, asked with its own credential. */
export async function requestClientToken(
  context: GrantContext,
  endpoints: Endpoints,
  request: ClientCredentialsRequest,
): Promise<Omit<RedeemedGrant, 'claims'>> {
  const now = context.clock()
  const auth = await context.clientAuthentication(endpoints)
  const form = compactForm({
    grant_type: 'client_credentials',
    client_id: context.clientId,
    scope: [...request.scopes].sort().join(' '),
    claims: claimsFor(context, request.claimsChallenge),
    client_info: '1',
    ...auth.form,
  })
  const url = await request.tokenEndpointFor(endpoints.tokenEndpoint)
  const response = await requestToken(context.http(), url, form, {
    now,
    apiId: apiIds.clientCredentials,
    refreshReason: request.reason,
    correlationId: randomUUID(),
    ...appHeadersFor(context),
    ...(auth.headers ? { extraHeaders: auth.headers } : {}),
  })
  return { response, now }
}
