import { createHash, randomUUID } from 'node:crypto'
import {
  ClientApplication,
  type AuthenticationResult,
  type ClientApplicationOptions,
  type ClientTokenOptions,
} from './application.js'
import { regionalHost } from '../authority/authority.js'
import {
  type ClientAuthentication,
  type ClientCredential,
  clientAuthentication,
} from '../credentials/client-auth.js'
import type { Endpoints } from '../authority/discovery.js'
import { RuntimeFailure, UsageError } from '../kernel/errors.js'
import { apiIds, compactForm, refreshReasons, requestToken } from '../grants/token-request.js'
import { detectRegion, normalizeRegion } from '../authority/region.js'
import { requiredScopes, targetOf } from '../protocol/scopes.js'
import { fromResponse } from '../protocol/token-response.js'

/** A client that can keep a secret: a service, a daemon, a CI job. */
export class ConfidentialClientApplication extends ClientApplication {
  readonly #credential: ClientCredential
  #region: Promise<string | undefined> | undefined

  constructor(options: ClientApplicationOptions & { clientCredential: ClientCredential }) {
    super(options)
    if (!options.clientCredential) {
      throw new UsageError('missing_credential', 'a confidential client needs a client credential')
    }
    this.#credential = options.clientCredential
  }

  protected override async clientAuthentication(
    endpoints: Endpoints,
  ): Promise<ClientAuthentication> {
    return clientAuthentication(this.#credential, {
      clientId: this.clientId,
      audience: endpoints.tokenEndpoint,
      now: this.clock(),
      ...(this.options.clientClaims ? { clientClaims: this.options.clientClaims } : {}),
      ...(endpoints.tokenEndpointAuthMethods
        ? { authMethods: endpoints.tokenEndpointAuthMethods }
        : {}),
    })
  }

  /** An app-only token (client credentials), from the cache when one is still valid. */
  async acquireTokenForClient(
    scopes: readonly string[],
    options: ClientTokenOptions = {},
  ): Promise<AuthenticationResult> {
    const wanted = requiredScopes(scopes)
    const query = {
      clientId: this.clientId,
      environment: this.authority.instance,
      homeAccountId: null,
      scopes: wanted,
    }
    const result = await this.cachedOrFetched(query, options, (endpoints, reason) =>
      this.#requestClientToken(endpoints, wanted, options.claimsChallenge, reason),
    )
    if (result === undefined) {
      throw new RuntimeFailure('invalid_response', 'the identity provider answered without a token')
    }
    return result
  }

  /**
   * On-behalf-of: a middle tier trades the token its caller sent for one to a downstream API. The
   * tokens are kept per incoming assertion, so a repeat with the same assertion is a cache hit.
   */
  async acquireTokenOnBehalfOf(
    userAssertion: string,
    scopes: readonly string[],
    options: { claimsChallenge?: string; forceRefresh?: boolean } = {},
  ): Promise<AuthenticationResult> {
    const wanted = requiredScopes(scopes)
    if (!userAssertion.trim()) {
      throw new UsageError('invalid_assertion', 'the user assertion is empty')
    }
    const userAssertionHash = createHash('sha256').update(userAssertion.trim()).digest('base64url')
    const query = {
      clientId: this.clientId,
      environment: this.authority.instance,
      homeAccountId: null,
      userAssertionHash,
      scopes: wanted,
    }
    const useCache = options.claimsChallenge === undefined && options.forceRefresh !== true
    await this.loadCache()
    const realms = await this.knownRealms()
    const hit = useCache ? this.pickAccessToken(query, realms).hit : undefined
    if (hit) {
      return hit
    }
    const endpoints = await this.endpoints()
    const decorated = this.userScopes(wanted)
    return this.fetchOnce(
      () => (useCache ? this.pickAccessToken(query, [...realms, endpoints.realm]).hit : undefined),
      () =>
        this.redeem(
          {
            form: {
              grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
              assertion: userAssertion.trim(),
              requested_token_use: 'on_behalf_of',
              scope: targetOf(decorated),
              claims: this.claims(options.claimsChallenge),
            },
            apiId: apiIds.onBehalfOf,
            refreshReason: useCache ? refreshReasons.absent : refreshReasons.forced,
            scopes: decorated,
            grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
            userAssertionHash,
          },
          endpoints,
        ),
    )
  }

  async #requestClientToken(
    endpoints: Endpoints,
    scopes: string[],
    claimsChallenge: string | undefined,
    reason: number,
  ) {
    const now = this.clock()
    const auth = await this.clientAuthentication(endpoints)
    const form = compactForm({
      grant_type: 'client_credentials',
      client_id: this.clientId,
      scope: [...scopes].sort().join(' '),
      claims: this.claims(claimsChallenge),
      client_info: '1',
      ...auth.form,
    })
    const url = await this.#regionalTokenEndpoint(endpoints.tokenEndpoint)
    const response = await requestToken(this.http(), url, form, {
      now,
      apiId: apiIds.clientCredentials,
      refreshReason: reason,
      correlationId: randomUUID(),
      ...this.appHeaders(),
      ...(auth.headers ? { extraHeaders: auth.headers } : {}),
    })
    this.tokenCache.add({
      clientId: this.clientId,
      environment: this.authority.instance,
      realm: endpoints.realm,
      scopes,
      response,
      grantType: 'client_credentials',
      now,
    })
    return fromResponse(response, scopes, now)
  }

  /** Client credentials go to the region's host when one is configured or detected. */
  async #regionalTokenEndpoint(tokenEndpoint: string): Promise<string> {
    const configured = this.options.azureRegion ?? process.env['MSAL_FORCE_REGION']
    if (!configured || this.authority.kind === 'oidc') {
      return tokenEndpoint
    }
    this.#region ??=
      configured === true || configured === 'auto'
        ? detectRegion(this.http())
        : Promise.resolve(normalizeRegion(configured))
    const region = await this.#region
    if (!region) {
      return tokenEndpoint
    }
    const url = new URL(tokenEndpoint)
    url.host = regionalHost(this.authority, region)
    return url.toString()
  }
}
