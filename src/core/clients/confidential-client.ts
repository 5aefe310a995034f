import { noRegionReason, regionalHost, takesRegion } from '../authority/authority.js'
import type { Endpoints } from '../authority/discovery.js'
import { detectRegion, regionLabel } from '../authority/region.js'
import {
  type ClientAuthentication,
  type ClientCredential,
  clientAuthentication,
} from '../credentials/client-auth.js'
import { requestClientToken } from '../grants/client-credentials.js'
import { onBehalfOfGrant, userAssertionHashOf } from '../grants/on-behalf-of.js'
import { RuntimeFailure, UsageError } from '../kernel/errors.js'
import { quoted } from '../kernel/quoted.js'
import type { AuthenticationResult } from '../protocol/result.js'
import { requiredScopes } from '../protocol/scopes.js'
import type { ClientApplicationOptions, ClientTokenOptions } from '../session/client-options.js'
import { redeem, storeAppToken } from '../session/redeem.js'
import { checkOptions } from '../session/option-shape.js'
import { ClientApplication } from './application.js'
import { clientTokenRules, onBehalfOfRules } from './option-tables.js'

/** A client that can keep a secret: a service, a daemon, a CI job. */
export class ConfidentialClientApplication extends ClientApplication {
  readonly #credential: ClientCredential
  #region: Promise<string | undefined> | undefined
  /** acquireTokenForClient calls under way, by scopes and options. */
  readonly #clientFlights = new Map<string, Promise<AuthenticationResult>>()

  constructor(options: ClientApplicationOptions & { clientCredential: ClientCredential }) {
    super(options)
    if (!options.clientCredential) {
      throw new UsageError('missing_credential', 'a confidential client needs a client credential')
    }
    if (options.azureRegion && !takesRegion(this.authority)) {
      throw new UsageError('region_unsupported', `azureRegion: ${noRegionReason(this.authority)}`)
    }
    this.#credential = options.clientCredential
    this.#configuredRegion()
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
    checkOptions('acquireTokenForClient options', options, clientTokenRules)
    // Identical calls already under way: their success is in the cache for this one (the cache
    // lock orders them), and their failure is this one's too, as the provider would refuse it alike.
    const wanted = requiredScopes(scopes)
    const key = JSON.stringify([wanted, options])
    const running = this.#clientFlights.get(key)
    if (running !== undefined) {
      await running
    }
    const flight = this.#clientToken(wanted, options)
    this.#clientFlights.set(key, flight)
    try {
      return await flight
    } finally {
      if (this.#clientFlights.get(key) === flight) {
        this.#clientFlights.delete(key)
      }
    }
  }

  async #clientToken(wanted: string[], options: ClientTokenOptions): Promise<AuthenticationResult> {
    const query = {
      clientId: this.clientId,
      environment: this.authority.instance,
      homeAccountId: null,
      scopes: wanted,
    }
    const result = await this.cachedOrFetched(query, options, async (endpoints, reason) => {
      const redeemed = await requestClientToken(this.app, endpoints, {
        scopes: wanted,
        claimsChallenge: options.claimsChallenge,
        reason,
        tokenEndpointFor: (discovered) => this.#regionalTokenEndpoint(discovered),
      })
      return storeAppToken(this.app, endpoints, wanted, redeemed)
    })
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
    checkOptions('acquireTokenOnBehalfOf options', options, onBehalfOfRules)
    const wanted = requiredScopes(scopes)
    const userAssertionHash = userAssertionHashOf(userAssertion)
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
    const grant = onBehalfOfGrant(this.app, userAssertion, wanted, {
      claimsChallenge: options.claimsChallenge,
      forced: !useCache,
    })
    return this.fetchOnce(
      () => (useCache ? this.pickAccessToken(query, [...realms, endpoints.realm]).hit : undefined),
      () => redeem(this.app, grant, endpoints),
    )
  }

  /** Client credentials go to the region's host when one is configured or detected. */
  async #regionalTokenEndpoint(tokenEndpoint: string): Promise<string> {
    const configured = this.#configuredRegion()
    if (configured === undefined) {
      return tokenEndpoint
    }
    this.#region ??=
      configured === 'detect'
        ? detectRegion(this.http(), this.#env())
        : Promise.resolve(configured.region)
    const region = await this.#region
    if (!region) {
      return tokenEndpoint
    }
    const url = new URL(tokenEndpoint)
    url.host = regionalHost(this.authority, region)
    return url.toString()
  }

  /**
   * The region asked for (the option, else MSAL_FORCE_REGION), checked at construction: one that
   * is no DNS label is refused before its text can become the token host.
   */
  #configuredRegion(): 'detect' | { region: string } | undefined {
    // Null is MSAL's None: no choice made, so MSAL_FORCE_REGION still applies.
    const fromOption = this.options.azureRegion != null
    const configured = fromOption ? this.options.azureRegion : this.#env()['MSAL_FORCE_REGION']
    if (!configured || !takesRegion(this.authority)) {
      return undefined
    }
    if (configured === true || configured === 'auto') {
      return 'detect'
    }
    const region = regionLabel(configured)
    if (region === undefined) {
      throw new UsageError(
        'invalid_region',
        `${fromOption ? 'azureRegion' : 'MSAL_FORCE_REGION'} must be a region name (letters, digits and hyphens), not ${quoted(configured)}`,
      )
    }
    return { region }
  }

  /**
   * The public entry point is the one place the process environment is read (MSAL does so for
   * MSAL_FORCE_REGION and the region detection); a caller such as the CLI passes its own.
   */
  #env(): Record<string, string | undefined> {
    return this.options.env ?? process.env
  }
}
