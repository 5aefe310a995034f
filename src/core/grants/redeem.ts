import type { Endpoints } from '../authority/discovery.js'
import type { PopKey } from '../credentials/pop-key.js'
import type { IdTokenClaims } from '../protocol/client-info.js'
import { verifyIdTokenSignature } from '../protocol/id-token-signature.js'
import { checkIdToken, decodeIdToken } from '../protocol/id-token.js'
import { checkPopBinding, popRequestForm } from '../protocol/pop.js'
import type { TokenResponse } from '../protocol/token-response.js'
import { appHeadersFor, type GrantContext } from './context.js'
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
  /** The caller's `client-request-id`; a fresh one when absent. */
  correlationId?: string
  /** Routes the request to the account's home (X-AnchorMailbox). */
  anchor?: string
  /** On-behalf-of: the hash of the incoming assertion the tokens are kept under. */
  userAssertionHash?: string
  /** Ask for a Proof-of-Possession token bound to this key. */
  popKey?: PopKey
}

/** A grant's checked answer: the tokens, the ID token's checked claims, and when it was asked. */
export interface RedeemedGrant {
  response: TokenResponse
  claims?: IdTokenClaims
  now: number
}

/** The grant itself: request, then the PoP binding and the ID token checked. Nothing is stored. */
export async function redeemGrant(
  context: GrantContext,
  grant: UserGrant,
  endpoints: Endpoints,
): Promise<RedeemedGrant> {
  const now = context.clock()
  const auth = await context.clientAuthentication(endpoints)
  const form = compactForm({
    ...grant.form,
    ...(grant.popKey ? popRequestForm(grant.popKey) : {}),
    client_id: context.clientId,
    client_info: '1',
    ...auth.form,
  })
  const response = await requestToken(context.http(), endpoints.tokenEndpoint, form, {
    now,
    apiId: grant.apiId,
    refreshReason: grant.refreshReason,
    ...(grant.correlationId ? { correlationId: grant.correlationId } : {}),
    ...appHeadersFor(context),
    extraHeaders: {
      ...auth.headers,
      ...(grant.anchor ? { 'x-anchormailbox': grant.anchor } : {}),
    },
  })
  if (grant.popKey) {
    checkPopBinding(response, grant.popKey)
  }
  const claims = response.id_token ? decodeIdToken(response.id_token) : undefined
  if (response.id_token && context.authority.kind === 'oidc') {
    await verifyIdTokenSignature(response.id_token, context.http(), endpoints)
  }
  if (claims) {
    checkIdToken(claims, {
      clientId: context.clientId,
      ...(endpoints.issuer && context.options.validateAuthority !== false
        ? { issuer: endpoints.issuer }
        : {}),
      ...(grant.nonceClaim !== undefined ? { nonceClaim: grant.nonceClaim } : {}),
      ...(grant.maxAge !== undefined ? { maxAge: grant.maxAge } : {}),
      now,
    })
  }
  return { response, ...(claims ? { claims } : {}), now }
}
