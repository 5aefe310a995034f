import {
  type Authority,
  type AuthorityBuilder,
  defaultAuthority,
  openIdConfigurationUrl,
  parseAuthority,
} from './authority.js'
import { type Clock, systemClock } from './clock.js'
import { discoverEndpoints, type Endpoints } from './discovery.js'
import {
  InteractionRequiredError,
  MsalTsError,
  OAuthServerError,
  RuntimeFailure,
  UsageError,
} from './errors.js'
import {
  type AuthCodeFlow,
  authCodeOf,
  authorizationUrl,
  checkAuthState,
} from './auth-code-flow.js'
import { apiIds, compactForm, refreshReasons, requestToken } from './grants/token-request.js'
import { createHttpClient } from './http.js'
import { withHttpCache } from './http-cache.js'
import type { HttpClient } from './http-types.js'
import { type Logger, silentLogger } from './log.js'
import { type JsonStore, memoryStore } from './persistence.js'
import { checkPopResponse, type PopAuthScheme, popRequestForm, signedHttpRequest } from './pop.js'
import { loadPopKey, type PopKey, rotatePopKey } from './pop-key.js'
import { decorateScopes, mergeClaims, normalizeScopes, requiredScopes, targetOf } from './scopes.js'
import {
  accountOf,
  accountRealms,
  accountsIn,
  findAccessTokens,
  knownRealms,
  pickAccessToken,
  type PickedToken,
} from './cache-lookup.js'
import type { Account, AuthenticationResult } from './result.js'
import type { ClientAuthentication } from './client-auth.js'
import { verifyIdTokenSignature } from './id-token-signature.js'
import { checkIdToken, codeChallenge, decodeIdToken, hashNonce, randomToken } from './id-token.js'
import { homeAccountIdOf } from './token-cache/account-id.js'
import { anchorOf, fromResponse } from './token-response.js'
import type { AccessTokenEntry, RefreshTokenEntry } from './token-cache/schema.js'
import { SerializableTokenCache, type AccessTokenQuery } from './token-cache/token-cache.js'

/** What a store reports when its file cannot be locked or written (cache-store.ts); `cache_lock_lost` only ever comes after the fetch. */
const unwritableCacheCodes = new Set(['cache_file', 'cache_io', 'cache_lock_lost'])

/** A redirect URI must be absolute: the provider compares it with the registered ones verbatim. */
function checkRedirectUri(uri: string | undefined): void {
  if (uri !== undefined && !URL.canParse(uri)) {
    throw new UsageError(
      'invalid_redirect_uri',
      `the redirect URI ${JSON.stringify(uri)} is not an absolute URL`,
    )
  }
}

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
  /** Where the Proof-of-Possession key pair is kept between runs; in memory when absent. */
  popKeyStore?: JsonStore
  enablePiiLog?: boolean
  logger?: Logger
  clock?: Clock
}

export type { Account, AuthenticationResult } from './result.js'

export interface SilentOptions extends ClientTokenOptions {
  /** Honoured by the caller's account choice; here for MSAL parity. */
  correlationId?: string
  /** A Proof-of-Possession token, presented as a Signed HTTP Request for this method and URL. */
  authScheme?: PopAuthScheme
}

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
  redeemedRefreshToken?: RefreshTokenEntry
  skipAccountCreation?: boolean
  /** Routes the request to the account's home (X-AnchorMailbox). */
  anchor?: string
  /** On-behalf-of: the hash of the incoming assertion the tokens are kept under. */
  userAssertionHash?: string
  /** Ask for a Proof-of-Possession token bound to this key. */
  popKey?: PopKey
}

export interface AuthorizationUrlOptions {
  redirectUri?: string
  state?: string
  /** Sent as given (get_authorization_request_url does not hash it). */
  nonce?: string
  prompt?: string
  loginHint?: string
  domainHint?: string
  responseType?: string
  claimsChallenge?: string
  maxAge?: number
  responseMode?: string
}

export type AuthCodeFlowOptions = Omit<AuthorizationUrlOptions, 'nonce' | 'responseType'>

export interface ClientTokenOptions {
  /** An extra claims challenge (JSON), e.g. from a resource's WWW-Authenticate; skips the cached token. */
  claimsChallenge?: string
  /** Skip the cached token and ask the identity provider. */
  forceRefresh?: boolean
  /** A cached token must stay valid this many seconds (at least MSAL's 300). */
  minValidity?: number
}

/** The part common to public and confidential clients: authority, HTTP, discovery and the cache. */
export class ClientApplication {
  readonly clientId: string
  readonly authority: Authority
  readonly tokenCache: SerializableTokenCache
  protected readonly options: ClientApplicationOptions
  protected readonly clock: Clock
  protected readonly log: Logger
  readonly #cacheStore: JsonStore
  readonly #popKeyStore: JsonStore
  #popKey: Promise<PopKey> | undefined
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
    this.#popKeyStore = options.popKeyStore ?? memoryStore()
    this.clock = options.clock ?? systemClock
    this.log = options.logger ?? silentLogger
  }

  /** Releases kept-alive connections so the process can exit at once. */
  async close(): Promise<void> {
    await this.#closeHttp?.()
    await this.#cacheStore.close?.()
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
    const cached = await this.http().peek(openIdConfigurationUrl(this.authority))
    return knownRealms(this.authority, cached?.body)
  }

  protected async loadCache(): Promise<void> {
    this.tokenCache.deserialize(await this.#cacheStore.read())
  }

  /**
   * Single flight across processes: under the cache lock, reload and ask `cached` again (another
   * process may have just stored the token); only if it still misses, `fetch` and store.
   * A cache that cannot be written (read-only directory or disk) costs the caching, not the token:
   * the run warns and goes on, unless `mustPersist` (signing out must not pretend to succeed).
   */
  protected async fetchOnce<T>(
    cached: () => T | undefined,
    fetch: () => Promise<T>,
    { mustPersist = false } = {},
  ): Promise<T> {
    let locked = false
    let fetched: { result: T } | undefined
    try {
      return await this.#cacheStore.withLock(async () => {
        locked = true
        await this.loadCache()
        const hit = cached()
        if (hit !== undefined) {
          return hit
        }
        fetched = { result: await fetch() }
        if (this.tokenCache.hasStateChanged) {
          await this.#cacheStore.write({ ...this.tokenCache.toJSON() })
        }
        return fetched.result
      })
    } catch (error) {
      const unwritable = error instanceof MsalTsError && unwritableCacheCodes.has(error.code)
      if (mustPersist || !unwritable || (locked && fetched === undefined)) {
        throw error
      }
      this.log({ kind: 'warning', message: `tokens not cached: ${error.message}` })
      return fetched === undefined ? fetch() : fetched.result
    }
  }

  /**
   * What every cache-first acquisition shares: a usable cached token is returned at once; otherwise,
   * under the cache lock, the cache is asked again (another process may just have stored one) and
   * only then `fetch` runs. A token past its refresh_on is served when the fetch fails or finds
   * nothing, as MSAL does; a forced refresh is never answered by the token it replaces, but may
   * share the one a concurrent process fetched meanwhile.
   */
  protected async cachedOrFetched(
    query: Omit<AccessTokenQuery, 'realm'>,
    options: ClientTokenOptions,
    fetch: (endpoints: Endpoints, reason: number) => Promise<AuthenticationResult | undefined>,
    extraRealms: readonly string[] = [],
  ): Promise<AuthenticationResult | undefined> {
    const skipCache = options.forceRefresh === true || options.claimsChallenge !== undefined
    await this.loadCache()
    const realms = [...new Set([...(await this.knownRealms()), ...extraRealms])]
    const cached = this.findAccessTokens(query, realms)
    const replaced = new Set(skipCache ? cached.map((at) => at.secret) : [])
    let reason: number = refreshReasons.forced
    let aging: AuthenticationResult | undefined
    if (!skipCache) {
      const found = this.pickAccessToken(query, realms, options)
      if (found.hit) {
        return found.hit
      }
      aging = found.aging
      reason = aging
        ? refreshReasons.aging
        : cached.length > 0
          ? refreshReasons.expired
          : refreshReasons.absent
    }
    try {
      const endpoints = await this.endpoints()
      const allRealms = [...new Set([...realms, endpoints.realm])]
      const result = await this.fetchOnce(
        () => this.pickAccessToken(query, allRealms, { ...options, exclude: replaced }).hit,
        () => fetch(endpoints, reason),
      )
      return result ?? aging
    } catch (error) {
      if (aging && !(error instanceof UsageError)) {
        return aging
      }
      throw error
    }
  }

  protected claims(claimsChallenge: string | undefined): string | undefined {
    return mergeClaims(claimsChallenge, this.options.clientCapabilities)
  }

  /** The first usable access token; one whose refresh_on has passed is returned as `aging` instead. */
  protected pickAccessToken(
    query: Omit<AccessTokenQuery, 'realm'>,
    realms: readonly string[],
    options: { minValidity?: number; exclude?: ReadonlySet<string> } = {},
  ): PickedToken {
    return pickAccessToken(this.tokenCache, query, realms, { ...options, now: this.clock() })
  }

  protected findAccessTokens(
    query: Omit<AccessTokenQuery, 'realm'>,
    realms: readonly string[],
  ): AccessTokenEntry[] {
    return findAccessTokens(this.tokenCache, query, realms)
  }

  /** Credentials a confidential client adds to every grant; a public client has none. */
  protected clientAuthentication(endpoints: Endpoints): Promise<ClientAuthentication> {
    void endpoints
    return Promise.resolve({ form: {} })
  }

  /** Runs fn under the cache lock on a freshly loaded cache, and saves what it changed. */
  protected updateCache<T>(fn: () => Promise<T>): Promise<T> {
    return this.fetchOnce(() => undefined, fn)
  }

  /** Redeems a user grant and stores its tokens and account, under the cache lock. */
  protected async redeemUserGrant(grant: UserGrant): Promise<AuthenticationResult> {
    const endpoints = await this.endpoints()
    return this.updateCache(() => this.redeem(grant, endpoints))
  }

  /** The grant itself: request, ID token checks, cache entries. A refused ID token stores nothing. */
  protected async redeem(grant: UserGrant, endpoints: Endpoints): Promise<AuthenticationResult> {
    const now = this.clock()
    const auth = await this.clientAuthentication(endpoints)
    const form = compactForm({
      ...grant.form,
      ...(grant.popKey ? popRequestForm(grant.popKey) : {}),
      client_id: this.clientId,
      client_info: '1',
      ...auth.form,
    })
    const response = await requestToken(this.http(), endpoints.tokenEndpoint, form, {
      apiId: grant.apiId,
      refreshReason: grant.refreshReason,
      ...this.appHeaders(),
      extraHeaders: {
        ...auth.headers,
        ...(grant.anchor ? { 'x-anchormailbox': grant.anchor } : {}),
      },
    })
    if (grant.popKey) {
      checkPopResponse(response, grant.popKey)
    }
    const claims = response.id_token ? decodeIdToken(response.id_token) : undefined
    if (response.id_token && this.authority.kind === 'oidc') {
      await verifyIdTokenSignature(response.id_token, this.http(), endpoints)
    }
    if (claims) {
      checkIdToken(claims, {
        clientId: this.clientId,
        ...(endpoints.issuer && this.options.validateAuthority !== false
          ? { issuer: endpoints.issuer }
          : {}),
        ...(grant.nonceClaim !== undefined ? { nonceClaim: grant.nonceClaim } : {}),
        ...(grant.maxAge !== undefined ? { maxAge: grant.maxAge } : {}),
        now,
      })
    }
    this.tokenCache.add({
      clientId: this.clientId,
      environment: this.authority.instance,
      realm: endpoints.realm,
      scopes: grant.scopes,
      response,
      ...(claims ? { idTokenClaims: claims } : {}),
      grantType: grant.grantType,
      ...(grant.username !== undefined ? { username: grant.username } : {}),
      ...(grant.redeemedRefreshToken ? { redeemedRefreshToken: grant.redeemedRefreshToken } : {}),
      ...(grant.userAssertionHash !== undefined
        ? { userAssertionHash: grant.userAssertionHash }
        : {}),
      ...(grant.skipAccountCreation ? { skipAccountCreation: true } : {}),
      ...(grant.popKey ? { keyId: grant.popKey.kid } : {}),
      now,
    })
    const homeAccountId = homeAccountIdOf(response.client_info, claims)
    const account =
      homeAccountId === null ? undefined : this.#account(homeAccountId, endpoints.realm)
    return {
      ...fromResponse(response, grant.scopes, now),
      ...(claims ? { id_token_claims: claims } : {}),
      ...(account ? { account } : {}),
    }
  }

  protected appHeaders(): { appName?: string; appVersion?: string } {
    return {
      ...(this.options.appName ? { appName: this.options.appName } : {}),
      ...(this.options.appVersion ? { appVersion: this.options.appVersion } : {}),
    }
  }

  /** The decorated scope set of a user flow, as a sorted string for the wire and as a list. */
  protected userScopes(scopes: readonly string[]): string[] {
    const wanted = normalizeScopes(scopes)
    return decorateScopes(wanted, this.options.excludeScopes ?? [])
  }

  /** Signed-in accounts of this authority's host, one per home account, optionally by username (any case). */
  async getAccounts(username?: string): Promise<Account[]> {
    await this.loadCache()
    return accountsIn(this.tokenCache, this.authority.instance, username)
  }

  /** Signs an account out: its tokens and account entries leave the cache. */
  async removeAccount(account: Pick<Account, 'home_account_id' | 'environment'>): Promise<void> {
    await this.fetchOnce(
      () => undefined,
      () => Promise.resolve(this.tokenCache.removeAccount(account, this.clientId)),
      { mustPersist: true },
    )
  }

  /**
   * MSAL's remove_tokens_for_client: the app-only access tokens of this client id leave the cache,
   * under this host and its aliases; user tokens, accounts and other clients' tokens stay. MSAL
   * has it on confidential clients only; it needs no credential, so it lives here.
   */
  async removeTokensForClient(): Promise<void> {
    await this.updateCache(() => {
      this.tokenCache.removeClientTokens(this.clientId, [this.authority.instance])
      return Promise.resolve()
    })
  }

  /** MSAL's acquire_token_silent: a token, or undefined whatever went wrong. */
  async acquireTokenSilent(
    scopes: readonly string[],
    account: Account,
    options: SilentOptions = {},
  ): Promise<AuthenticationResult | undefined> {
    try {
      return await this.acquireTokenSilentWithError(scopes, account, options)
    } catch (error) {
      if (error instanceof UsageError) {
        throw error
      }
      return undefined
    }
  }

  /**
   * A token for the account without a person: from the cache, else by redeeming its refresh token
   * (or its family's). Undefined when the cache has nothing to work with; the provider's error when
   * it refused (an `interaction_required` kind when a person has to sign in again).
   */
  async acquireTokenSilentWithError(
    scopes: readonly string[],
    account: Account,
    options: SilentOptions = {},
  ): Promise<AuthenticationResult | undefined> {
    const wanted = requiredScopes(scopes)
    const popKey = await this.#popKeyFor(options.authScheme)
    const query = {
      clientId: this.clientId,
      environment: this.authority.instance,
      homeAccountId: account.home_account_id,
      scopes: wanted,
      ...(popKey ? { authScheme: 'pop' as const, keyId: popKey.kid } : {}),
    }
    const result = await this.cachedOrFetched(
      query,
      options,
      (endpoints, reason) =>
        this.#redeemCachedRefreshToken(account, wanted, endpoints, {
          claimsChallenge: options.claimsChallenge,
          reason,
          popKey,
        }),
      accountRealms(this.authority, account),
    )
    return result && { ...(await this.#presented(result, popKey, options.authScheme)), account }
  }

  /**
   * Whether Proof-of-Possession tokens can be had: Entra issues them, with the key msal-ts keeps;
   * ADFS, B2C and other OpenID providers do not (as MSAL says for them).
   */
  isPopSupported(): boolean {
    return !['oidc', 'adfs', 'b2c'].includes(this.authority.kind)
  }

  /** Replaces the PoP key pair; the PoP tokens bound to the old one are no longer used. Returns the new key id. */
  async rotatePopKey(): Promise<string> {
    const key = rotatePopKey(this.#popKeyStore)
    this.#popKey = key
    return (await key).kid
  }

  async #popKeyFor(scheme: PopAuthScheme | undefined): Promise<PopKey | undefined> {
    if (scheme === undefined) {
      return undefined
    }
    if (!this.isPopSupported()) {
      throw new UsageError(
        'pop_unsupported',
        `${this.authority.url} (${this.authority.kind === 'oidc' ? 'an OpenID provider' : this.authority.kind.toUpperCase()}) cannot issue Proof-of-Possession tokens; ask for a bearer token instead`,
      )
    }
    this.#popKey ??= loadPopKey(this.#popKeyStore)
    return this.#popKey
  }

  async #presented(
    result: AuthenticationResult,
    popKey: PopKey | undefined,
    scheme: PopAuthScheme | undefined,
  ): Promise<AuthenticationResult> {
    return popKey && scheme ? signedHttpRequest(result, popKey, scheme, this.clock()) : result
  }

  /** MSAL's refresh token order: family tokens (for an app new here, or of its family), then its own. */
  async #redeemCachedRefreshToken(
    account: Account,
    scopes: string[],
    endpoints: Endpoints,
    request: { claimsChallenge: string | undefined; reason: number; popKey: PopKey | undefined },
  ): Promise<AuthenticationResult | undefined> {
    const environment = this.authority.instance
    const home = account.home_account_id
    const familyId = this.tokenCache.appMetadata(this.clientId, environment)?.family_id
    const known = this.tokenCache.appMetadata(this.clientId, environment) !== undefined
    // A generic OpenID provider may grant offline_access only with prompt=consent (OIDC Core
    // §11) and then refuses it on refresh; the refresh token is already in hand, so it is not asked.
    const decorated = this.userScopes(scopes).filter(
      (scope) => this.authority.kind !== 'oidc' || scope !== 'offline_access',
    )
    let familyError: unknown
    const attempt = async (rt: RefreshTokenEntry) =>
      this.redeem(
        {
          form: {
            grant_type: 'refresh_token',
            refresh_token: rt.secret,
            scope: targetOf(decorated),
            claims: this.claims(request.claimsChallenge),
          },
          apiId: apiIds.silent,
          refreshReason: request.reason,
          scopes: decorated,
          grantType: 'refresh_token',
          redeemedRefreshToken: rt,
          skipAccountCreation: true,
          anchor: `Oid:${home.replace('.', '@')}`,
          ...(request.popKey ? { popKey: request.popKey } : {}),
        },
        endpoints,
      )
    if (!known || familyId) {
      for (const rt of this.tokenCache.findRefreshTokens({
        environment,
        homeAccountId: home,
        familyId: familyId ?? '1',
      })) {
        if (rt.client_id === this.clientId) {
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
    const own = this.tokenCache.findRefreshTokens({
      environment,
      homeAccountId: home,
      clientId: this.clientId,
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

  /** MSAL's acquire_token_by_username_password (ROPC). Federated accounts are refused up front. */
  async acquireTokenByUsernamePassword(
    username: string,
    password: string,
    scopes: readonly string[],
    options: { claimsChallenge?: string; authScheme?: PopAuthScheme } = {},
  ): Promise<AuthenticationResult> {
    const decorated = this.userScopes(scopes)
    const popKey = await this.#popKeyFor(options.authScheme)
    if (this.authority.kind === 'aad') {
      await this.#refuseFederated(username)
    }
    const result = await this.redeemUserGrant({
      form: {
        grant_type: 'password',
        username,
        password,
        scope: targetOf(decorated),
        claims: this.claims(options.claimsChallenge),
      },
      apiId: apiIds.usernamePassword,
      refreshReason: refreshReasons.notSilent,
      scopes: decorated,
      grantType: 'password',
      username,
      anchor: `upn:${username}`,
      ...(popKey ? { popKey } : {}),
    })
    return this.#presented(result, popKey, options.authScheme)
  }

  async #refuseFederated(username: string): Promise<void> {
    const url = `${this.authority.scheme}//${this.authority.host}/common/userrealm/${encodeURIComponent(username)}?api-version=1.0`
    const response = await this.http().request({
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

  /**
   * MSAL's get_authorization_request_url: a plain authorize URL (no PKCE), for web apps that keep
   * their own state and nonce.
   */
  async getAuthorizationRequestUrl(
    scopes: readonly string[],
    options: AuthorizationUrlOptions = {},
  ): Promise<string> {
    checkRedirectUri(options.redirectUri)
    const endpoint = await this.#authorizationEndpoint()
    return authorizationUrl(endpoint, {
      client_id: this.clientId,
      response_type: options.responseType ?? 'code',
      redirect_uri: options.redirectUri,
      scope: targetOf(this.userScopes(scopes)),
      state: options.state,
      nonce: options.nonce,
      login_hint: options.loginHint,
      prompt: options.prompt,
      domain_hint: options.domainHint,
      claims: this.claims(options.claimsChallenge),
      max_age: options.maxAge === undefined ? undefined : String(options.maxAge),
      response_mode: options.responseMode,
    })
  }

  /**
   * MSAL's initiate_auth_code_flow: state, nonce and a PKCE verifier from a cryptographic source,
   * and the authorize URL that carries them; keep the flow to redeem its answer.
   */
  async initiateAuthCodeFlow(
    scopes: readonly string[],
    options: AuthCodeFlowOptions = {},
  ): Promise<AuthCodeFlow> {
    checkRedirectUri(options.redirectUri)
    const endpoint = await this.#authorizationEndpoint()
    const decorated = this.userScopes(scopes)
    const state = options.state ?? randomToken(16)
    const nonce = randomToken(16)
    const verifier = randomToken(32)
    const authUri = authorizationUrl(endpoint, {
      client_id: this.clientId,
      response_type: 'code',
      redirect_uri: options.redirectUri,
      scope: targetOf(decorated),
      state,
      code_challenge: codeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce: hashNonce(nonce),
      client_info: '1',
      login_hint: options.loginHint,
      domain_hint: options.domainHint,
      prompt: options.prompt,
      claims: this.claims(options.claimsChallenge),
      max_age: options.maxAge === undefined ? undefined : String(options.maxAge),
      response_mode: options.responseMode,
      'X-AnchorMailbox': options.loginHint ? `UPN:${options.loginHint}` : undefined,
    })
    return {
      state,
      ...(options.redirectUri !== undefined ? { redirect_uri: options.redirectUri } : {}),
      scope: [...new Set([...decorated, 'openid'])],
      auth_uri: authUri,
      code_verifier: verifier,
      nonce,
      ...(options.maxAge !== undefined ? { max_age: options.maxAge } : {}),
      claims_challenge: options.claimsChallenge ?? null,
    }
  }

  /** Redeems the answer to a flow: state, error, nonce and max_age checked as MSAL does, and more. */
  async acquireTokenByAuthCodeFlow(
    flow: AuthCodeFlow,
    response: Record<string, string>,
    scopes?: readonly string[],
    options: { apiId?: number } = {},
  ): Promise<AuthenticationResult> {
    checkAuthState(flow, response, scopes)
    const endpoints = await this.endpoints()
    const code = authCodeOf(response, {
      ...(endpoints.issuer !== undefined ? { issuer: endpoints.issuer } : {}),
      required: endpoints.issInAuthorizationResponse === true,
    })
    const decorated = scopes ? this.userScopes(scopes) : flow.scope
    const clientInfo = response['client_info']
    const anchor = clientInfo ? anchorOf(clientInfo) : undefined
    return this.redeemUserGrant({
      form: {
        grant_type: 'authorization_code',
        code,
        redirect_uri: flow.redirect_uri,
        code_verifier: flow.code_verifier,
        scope: targetOf(decorated),
        claims: this.claims(flow.claims_challenge ?? undefined),
      },
      apiId: options.apiId ?? apiIds.authCode,
      refreshReason: refreshReasons.notSilent,
      scopes: decorated,
      grantType: 'authorization_code',
      nonceClaim: hashNonce(flow.nonce),
      ...(flow.max_age !== undefined ? { maxAge: flow.max_age } : {}),
      ...(anchor ? { anchor } : {}),
    })
  }

  /** MSAL's acquire_token_by_authorization_code: a bare code, with an optional raw nonce check. */
  async acquireTokenByAuthorizationCode(
    code: string,
    scopes: readonly string[],
    options: { redirectUri?: string; nonce?: string; claimsChallenge?: string } = {},
  ): Promise<AuthenticationResult> {
    checkRedirectUri(options.redirectUri)
    if (typeof code !== 'string' || code.trim() === '') {
      throw new UsageError('missing_code', 'the authorization code is empty')
    }
    const decorated = this.userScopes(scopes)
    return this.redeemUserGrant({
      form: {
        grant_type: 'authorization_code',
        code,
        redirect_uri: options.redirectUri,
        scope: targetOf(decorated),
        claims: this.claims(options.claimsChallenge),
      },
      apiId: apiIds.authCode,
      refreshReason: refreshReasons.notSilent,
      scopes: decorated,
      grantType: 'authorization_code',
      ...(options.nonce !== undefined ? { nonceClaim: options.nonce } : {}),
    })
  }

  /**
   * MSAL's acquire_token_by_refresh_token, for migrating a refresh token kept elsewhere: the new
   * tokens and the account are cached; the given token itself never is.
   */
  async acquireTokenByRefreshToken(
    refreshToken: string,
    scopes: readonly string[],
  ): Promise<AuthenticationResult> {
    const decorated = this.userScopes(scopes)
    return this.redeemUserGrant({
      form: {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        scope: targetOf(decorated),
      },
      apiId: apiIds.byRefreshToken,
      refreshReason: refreshReasons.forced,
      scopes: decorated,
      grantType: 'refresh_token',
    })
  }

  async #authorizationEndpoint(): Promise<string> {
    const endpoints = await this.endpoints()
    if (!endpoints.authorizationEndpoint) {
      throw new RuntimeFailure('unsupported', `${this.authority.url} has no authorization endpoint`)
    }
    return endpoints.authorizationEndpoint
  }

  #account(homeAccountId: string, realm: string): Account | undefined {
    const entries = this.tokenCache
      .accounts(this.authority.instance)
      .filter((a) => a.home_account_id === homeAccountId)
    const entry = entries.find((a) => a.realm === realm) ?? entries[0]
    return entry && accountOf(entry)
  }
}
