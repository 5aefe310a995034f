import { randomUUID } from 'node:crypto'
import {
  type Authority,
  type AuthorityBuilder,
  defaultAuthority,
  openIdConfigurationUrl,
  parseAuthority,
  regionalHost,
} from './authority.js'
import { type ClientCredential, clientAuthFields } from './client-auth.js'
import { type Clock, systemClock } from './clock.js'
import { discoverEndpoints, type Endpoints } from './discovery.js'
import { MsalTsError, UsageError } from './errors.js'
import { apiIds, compactForm, refreshReasons, requestToken } from './grants/token-request.js'
import { createHttpClient } from './http.js'
import { withHttpCache } from './http-cache.js'
import type { HttpClient } from './http-types.js'
import { type Logger, silentLogger } from './log.js'
import { type JsonStore, memoryStore } from './persistence.js'
import { detectRegion, normalizeRegion } from './region.js'
import { mergeClaims, normalizeScopes } from './scopes.js'
import type { AccessTokenEntry } from './token-cache/schema.js'
import {
  SerializableTokenCache,
  type AccessTokenQuery,
  type TokenResponse,
} from './token-cache/token-cache.js'

/** The constructor options of MSAL's ClientApplication, in camelCase. */
export interface ClientApplicationOptions {
  clientId: string
  /** Default `https://login.microsoftonline.com/common`. */
  authority?: string | AuthorityBuilder
  validateAuthority?: boolean
  /** false skips instance discovery; a string names a custom instance discovery endpoint. */
  instanceDiscovery?: boolean | string
  /** Any OpenID provider: its metadata is at `<oidcAuthority>/.well-known/openid-configuration`. */
  oidcAuthority?: string
  tokenCache?: SerializableTokenCache
  /** Where the token cache is kept between runs; in memory when absent. */
  cacheStore?: JsonStore
  /** Bring your own HTTP stack; verify, proxies and timeout then do not apply. */
  httpClient?: HttpClient
  /** false disables TLS verification; a string is a CA bundle file to trust as well. */
  verify?: boolean | string
  proxies?: string
  /** Seconds per request. Default 30. */
  timeout?: number
  clientClaims?: Record<string, unknown>
  appName?: string
  appVersion?: string
  clientCapabilities?: string[]
  /** A region name, `true` (or "auto") to detect it, false for none. */
  azureRegion?: string | boolean
  excludeScopes?: string[]
  /** Where discovery answers and throttle state are kept between runs; in memory when absent. */
  httpCache?: JsonStore
  enablePiiLog?: boolean
  logger?: Logger
  clock?: Clock
}

/** What every acquisition returns, in MSAL's (snake_case) result shape. */
export interface AuthenticationResult {
  access_token: string
  token_type: string
  expires_in: number
  expires_on: number
  ext_expires_on?: number
  refresh_on?: number
  scope: string[]
  token_source: 'cache' | 'identity_provider'
}

export interface ClientTokenOptions {
  claimsChallenge?: string
  /** Skip the cached token and ask the identity provider. */
  forceRefresh?: boolean
  /** A cached token must stay valid this many seconds (at least MSAL's 300). */
  minValidity?: number
}

/** MSAL treats a token with less than five minutes left as expired. */
const expiryMargin = 300

/** The part common to public and confidential clients: authority, HTTP, discovery and the cache. */
export class ClientApplication {
  readonly clientId: string
  readonly authority: Authority
  readonly tokenCache: SerializableTokenCache
  protected readonly options: ClientApplicationOptions
  protected readonly clock: Clock
  protected readonly log: Logger
  readonly #cacheStore: JsonStore
  #http: (HttpClient & { peek(url: string): Promise<{ body: string } | undefined> }) | undefined
  #closeHttp: (() => Promise<void>) | undefined
  #endpoints: Promise<Endpoints> | undefined

  /** No network here: discovery waits until a request needs it. */
  constructor(options: ClientApplicationOptions) {
    if (!options.clientId?.trim()) {
      throw new UsageError('missing_client_id', 'a client id is required')
    }
    if (options.authority && options.oidcAuthority) {
      throw new UsageError(
        'invalid_authority',
        'give either an authority or an OIDC authority, not both',
      )
    }
    if (options.excludeScopes?.includes('openid')) {
      throw new UsageError('reserved_scope', 'openid cannot be excluded')
    }
    this.options = options
    this.clientId = options.clientId.trim()
    this.authority = options.oidcAuthority
      ? parseAuthority(options.oidcAuthority.replace(/\/+$/, ''), { oidc: true })
      : parseAuthority(String(options.authority ?? defaultAuthority))
    this.tokenCache = options.tokenCache ?? new SerializableTokenCache()
    this.#cacheStore = options.cacheStore ?? memoryStore()
    this.clock = options.clock ?? systemClock
    this.log = options.logger ?? silentLogger
  }

  /** Releases kept-alive connections so the process can exit at once. */
  async close(): Promise<void> {
    await this.#closeHttp?.()
  }

  protected http(): HttpClient & { peek(url: string): Promise<{ body: string } | undefined> } {
    if (this.#http === undefined) {
      let inner = this.options.httpClient
      if (inner === undefined) {
        const verify = this.options.verify
        const client = createHttpClient(
          {
            timeoutMs: (this.options.timeout ?? 30) * 1000,
            ...(this.options.proxies ? { proxy: this.options.proxies } : {}),
            ...(typeof verify === 'string' ? { caFile: verify } : {}),
            ...(verify === false ? { insecure: true } : {}),
          },
          this.log,
        )
        this.#closeHttp = () => client.close()
        inner = client
      }
      this.#http = withHttpCache(inner, {
        store: this.options.httpCache ?? memoryStore(),
        clock: this.clock,
        log: this.log,
      })
    }
    return this.#http
  }

  /** The authority's endpoints, discovered once per application (and once a day across processes). */
  protected endpoints(): Promise<Endpoints> {
    this.#endpoints ??= discoverEndpoints(this.http(), this.authority, {
      instanceDiscovery: this.options.instanceDiscovery ?? true,
      validateAuthority: this.options.validateAuthority ?? true,
    })
    return this.#endpoints
  }

  /**
   * The realms a cached token of this authority may carry, known without a request: the tenant as
   * configured, and the tenant id a domain resolved to when the discovery answer is still cached.
   */
  protected async knownRealms(): Promise<string[]> {
    const realms = [this.authority.tenant]
    const cached = await this.http().peek(openIdConfigurationUrl(this.authority))
    const tokenEndpoint = cached ? tokenEndpointOf(cached.body) : undefined
    const realm = tokenEndpoint
      ? new URL(tokenEndpoint).pathname.split('/').find(Boolean)
      : undefined
    if (realm && realm.toLowerCase() !== this.authority.tenant.toLowerCase()) realms.push(realm)
    return realms
  }

  protected async loadCache(): Promise<void> {
    this.tokenCache.deserialize(await this.#cacheStore.read())
  }

  /**
   * Single flight across processes: under the cache lock, reload and ask `cached` again (another
   * process may have just stored the token); only if it still misses, `fetch` and store.
   */
  protected async fetchOnce<T>(cached: () => T | undefined, fetch: () => Promise<T>): Promise<T> {
    return this.#cacheStore.withLock(async () => {
      await this.loadCache()
      const hit = cached()
      if (hit !== undefined) return hit
      const result = await fetch()
      if (this.tokenCache.hasStateChanged) {
        await this.#cacheStore.write({ ...this.tokenCache.toJSON() })
      }
      return result
    })
  }

  protected claims(claimsChallenge: string | undefined): string | undefined {
    return mergeClaims(claimsChallenge, this.options.clientCapabilities)
  }

  /** The first usable access token; one whose refresh_on has passed is returned as `aging` instead. */
  protected pickAccessToken(
    query: Omit<AccessTokenQuery, 'realm'>,
    realms: readonly string[],
    options: { minValidity?: number; exclude?: ReadonlySet<string> } = {},
  ) {
    const now = this.clock()
    const margin = Math.max(expiryMargin, options.minValidity ?? 0)
    for (const at of this.findAccessTokens(query, realms)) {
      if (Number(at.expires_on) - now < margin || options.exclude?.has(at.secret)) continue
      if (at.refresh_on !== undefined && Number(at.refresh_on) <= now) {
        return { aging: fromCache(at, now) }
      }
      return { hit: fromCache(at, now) }
    }
    return {}
  }

  protected findAccessTokens(
    query: Omit<AccessTokenQuery, 'realm'>,
    realms: readonly string[],
  ): AccessTokenEntry[] {
    return realms.flatMap((realm) => this.tokenCache.findAccessTokens({ ...query, realm }))
  }
}

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

  /** An app-only token (client credentials), from the cache when one is still valid. */
  async acquireTokenForClient(
    scopes: readonly string[],
    options: ClientTokenOptions = {},
  ): Promise<AuthenticationResult> {
    const wanted = normalizeScopes(scopes)
    if (wanted.length === 0) throw new UsageError('missing_scope', 'at least one scope is required')
    const query = {
      clientId: this.clientId,
      environment: this.authority.instance,
      homeAccountId: null,
      scopes: wanted,
    }
    const skipCache = options.forceRefresh === true || options.claimsChallenge !== undefined
    let reason: number = refreshReasons.forced
    let aging: AuthenticationResult | undefined
    await this.loadCache()
    let realms = await this.knownRealms()
    // A forced refresh must not be answered by the token it means to replace, but may share the
    // one a concurrent process fetched meanwhile.
    const replaced = new Set(
      skipCache ? this.findAccessTokens(query, realms).map((at) => at.secret) : [],
    )
    if (!skipCache) {
      const found = this.pickAccessToken(query, realms, options)
      if (found.hit) return found.hit
      aging = found.aging
      reason = aging ? refreshReasons.aging : refreshReasons.absent
    }
    try {
      const endpoints = await this.endpoints()
      realms = [...new Set([...realms, endpoints.realm])]
      return await this.fetchOnce(
        () => this.pickAccessToken(query, realms, { ...options, exclude: replaced }).hit,
        () => this.#requestClientToken(endpoints, wanted, options.claimsChallenge, reason),
      )
    } catch (error) {
      // MSAL keeps serving a token past its refresh_on when the refresh fails.
      if (aging && !(error instanceof UsageError)) return aging
      throw error
    }
  }

  async #requestClientToken(
    endpoints: Endpoints,
    scopes: string[],
    claimsChallenge: string | undefined,
    reason: number,
  ) {
    const now = this.clock()
    const form = compactForm({
      grant_type: 'client_credentials',
      client_id: this.clientId,
      scope: [...scopes].sort().join(' '),
      claims: this.claims(claimsChallenge),
      client_info: '1',
      ...(await clientAuthFields(this.#credential, {
        clientId: this.clientId,
        audience: endpoints.tokenEndpoint,
        now,
        ...(this.options.clientClaims ? { clientClaims: this.options.clientClaims } : {}),
      })),
    })
    const url = await this.#regionalTokenEndpoint(endpoints.tokenEndpoint)
    const response = await requestToken(this.http(), url, form, {
      apiId: apiIds.clientCredentials,
      refreshReason: reason,
      correlationId: randomUUID(),
      ...this.#appHeaders(),
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
    if (!configured || this.authority.kind === 'oidc') return tokenEndpoint
    this.#region ??=
      configured === true || configured === 'auto'
        ? detectRegion(this.http())
        : Promise.resolve(normalizeRegion(configured))
    const region = await this.#region
    if (!region) return tokenEndpoint
    const url = new URL(tokenEndpoint)
    url.host = regionalHost(this.authority, region)
    return url.toString()
  }

  #appHeaders(): { appName?: string; appVersion?: string } {
    return {
      ...(this.options.appName ? { appName: this.options.appName } : {}),
      ...(this.options.appVersion ? { appVersion: this.options.appVersion } : {}),
    }
  }
}

/** A client that cannot keep a secret: a person's CLI, a desktop app. */
export class PublicClientApplication extends ClientApplication {
  constructor(options: ClientApplicationOptions & { clientCredential?: never }) {
    if ((options as { clientCredential?: unknown }).clientCredential !== undefined) {
      throw new UsageError(
        'unexpected_credential',
        'a public client application takes no client credential',
      )
    }
    super(options)
  }
}

function fromCache(at: AccessTokenEntry, now: number): AuthenticationResult {
  const expiresOn = Number(at.expires_on)
  return {
    access_token: at.secret,
    token_type: at.token_type ?? 'Bearer',
    expires_in: expiresOn - now,
    expires_on: expiresOn,
    ...(at.extended_expires_on !== undefined
      ? { ext_expires_on: Number(at.extended_expires_on) }
      : {}),
    ...(at.refresh_on !== undefined ? { refresh_on: Number(at.refresh_on) } : {}),
    scope: at.target.split(/\s+/).filter(Boolean),
    token_source: 'cache',
  }
}

function fromResponse(
  response: TokenResponse,
  requested: readonly string[],
  now: number,
): AuthenticationResult {
  const expiresIn = Number(response.expires_in ?? 600)
  const extIn = response.ext_expires_in === undefined ? undefined : Number(response.ext_expires_in)
  const refreshIn = response.refresh_in === undefined ? undefined : Number(response.refresh_in)
  return {
    access_token: response.access_token,
    token_type: response.token_type ?? 'Bearer',
    expires_in: expiresIn,
    expires_on: now + expiresIn,
    ...(extIn !== undefined ? { ext_expires_on: now + extIn } : {}),
    ...(refreshIn !== undefined ? { refresh_on: now + refreshIn } : {}),
    scope: response.scope ? response.scope.split(/\s+/).filter(Boolean) : [...requested],
    token_source: 'identity_provider',
  }
}

function tokenEndpointOf(body: string): string | undefined {
  try {
    const value: unknown = (JSON.parse(body) as Record<string, unknown>)['token_endpoint']
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

export { MsalTsError }
