import type { Authority } from '../authority/authority.js'
import type { Endpoints } from '../authority/discovery.js'
import type { ClientAuthentication } from '../credentials/client-auth.js'
import { loadPopKey, type PopKey, rotatePopKey } from '../credentials/pop-key.js'
import {
  type AuthCodeFlowOptions,
  type AuthorizationUrlOptions,
  authCodeFlowGrant,
  authorizationCodeGrant,
  authorizationRequestUrl,
  newAuthCodeFlow,
} from '../grants/auth-code.js'
import { appHeadersFor, claimsFor, userScopesFor } from '../grants/context.js'
import { migrationGrant } from '../grants/migrate-refresh-token.js'
import { passwordGrant } from '../grants/password.js'
import type { Clock } from '../kernel/clock.js'
import { UsageError } from '../kernel/errors.js'
import { type JsonStore, memoryStore } from '../kernel/json-store.js'
import type { Logger } from '../kernel/log.js'
import type { AuthCodeFlow } from '../protocol/auth-code-flow.js'
import { type PopAuthScheme, presented } from '../protocol/pop.js'
import type { Account, AuthenticationResult } from '../protocol/result.js'
import { accountsFor, removeClientTokens, signOut } from '../session/accounts.js'
import { type AppContext, appContext, type CachingHttpClient } from '../session/app-context.js'
import type { ClientApplicationOptions, ClientTokenOptions } from '../session/client-options.js'
import { checkClientOptions } from '../session/option-checks.js'
import { checkArgument, checkOptions } from '../session/option-shape.js'
import { type CachedGrant, redeem, redeemUserGrant } from '../session/redeem.js'
import { type SilentOptions, silentToken } from '../session/silent.js'
import {
  cachedOrFetched,
  fetchOnce,
  loadCache,
  loggedPick,
  realmsKnown,
} from '../session/single-flight.js'
import { type PickedToken, pickAccessToken } from '../token-cache/lookup.js'
import type { AccessTokenQuery, SerializableTokenCache } from '../token-cache/token-cache.js'
import {
  argumentRules,
  authCodeFlowRules,
  authorizationCodeRules,
  authorizationUrlRules,
  constructorRules,
  flowRedeemRules,
  passwordRules,
  silentRules,
} from './option-tables.js'

export type { Account, AuthenticationResult } from '../protocol/result.js'

/** The part common to public and confidential clients: authority, HTTP, discovery and the cache. */
export class ClientApplication {
  readonly clientId: string
  readonly authority: Authority
  readonly tokenCache: SerializableTokenCache
  protected readonly options: ClientApplicationOptions
  protected readonly clock: Clock
  protected readonly log: Logger
  /** The application's grant context, cache and settings, for the flows a subclass adds. */
  protected readonly app: AppContext
  readonly #popKeyStore: JsonStore
  #popKey: Promise<PopKey> | undefined

  /** No network here: discovery waits until a request needs it. */
  constructor(options: ClientApplicationOptions) {
    // Nothing given, as a JavaScript caller may, is a missing client id, said so below.
    checkOptions('the options', options ?? {}, constructorRules)
    if (!(options as ClientApplicationOptions | undefined)?.clientId?.trim()) {
      throw new UsageError('missing_client_id', 'a client id is required (the clientId option)')
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
    checkClientOptions(options)
    this.app = appContext(options, {
      clientAuthentication: (endpoints) => this.clientAuthentication(endpoints),
      popKeyFor: (scheme) => this.#popKeyFor(scheme),
    })
    this.options = options
    this.clientId = this.app.clientId
    this.authority = this.app.authority
    this.tokenCache = this.app.tokenCache
    this.#popKeyStore = options.popKeyStore ?? memoryStore()
    this.clock = this.app.clock
    this.log = this.app.log
  }

  /** Releases kept-alive connections so the process can exit at once. */
  async close(): Promise<void> {
    await this.app.close()
  }

  protected http(): CachingHttpClient {
    return this.app.http()
  }

  /** The authority's endpoints, discovered once per application (and once a day across processes). */
  protected endpoints(): Promise<Endpoints> {
    return this.app.endpoints()
  }

  /** The realms a cached token of this authority may carry, known without a request. */
  protected knownRealms(): Promise<string[]> {
    return realmsKnown(this.app)
  }

  protected loadCache(): Promise<void> {
    return loadCache(this.app)
  }

  /** Single flight across processes: `fetch` runs under the cache lock only if `cached` still misses. */
  protected fetchOnce<T>(
    cached: () => T | undefined,
    fetch: () => Promise<T>,
    { mustPersist = false } = {},
  ): Promise<T> {
    return fetchOnce(this.app, cached, fetch, { mustPersist })
  }

  /** A usable cached token at once, else `fetch` under the cache lock (single-flight.ts). */
  protected cachedOrFetched(
    query: Omit<AccessTokenQuery, 'realm'>,
    options: ClientTokenOptions,
    fetch: (endpoints: Endpoints, reason: number) => Promise<AuthenticationResult | undefined>,
    extraRealms: readonly string[] = [],
  ): Promise<AuthenticationResult | undefined> {
    return cachedOrFetched(this.app, query, options, fetch, extraRealms)
  }

  protected claims(claimsChallenge: string | undefined): string | undefined {
    return claimsFor(this.app, claimsChallenge)
  }

  /** The first usable access token; one whose refresh_on has passed is returned as `aging` instead. */
  protected pickAccessToken(
    query: Omit<AccessTokenQuery, 'realm'>,
    realms: readonly string[],
    options: { minValidity?: number; exclude?: ReadonlySet<string> } = {},
  ): PickedToken {
    return loggedPick(
      this.app.log,
      pickAccessToken(this.tokenCache, query, realms, { ...options, now: this.clock() }),
    )
  }

  /** Credentials a confidential client adds to every grant; a public client has none. */
  protected clientAuthentication(endpoints: Endpoints): Promise<ClientAuthentication> {
    void endpoints
    return Promise.resolve({ form: {} })
  }

  /** Redeems a user grant and stores its tokens and account, under the cache lock. */
  protected redeemUserGrant(grant: CachedGrant): Promise<AuthenticationResult> {
    return redeemUserGrant(this.app, grant)
  }

  /** The grant itself: request, ID token checks, cache entries. A refused ID token stores nothing. */
  protected redeem(grant: CachedGrant, endpoints: Endpoints): Promise<AuthenticationResult> {
    return redeem(this.app, grant, endpoints)
  }

  protected appHeaders(): { appName?: string; appVersion?: string } {
    return appHeadersFor(this.app)
  }

  /** The decorated scope set of a user flow, as a sorted string for the wire and as a list. */
  protected userScopes(scopes: readonly string[]): string[] {
    return userScopesFor(this.app, scopes)
  }

  /** Signed-in accounts of this authority's host, one per home account, optionally by username (any case). */
  getAccounts(username?: string): Promise<Account[]> {
    return accountsFor(this.app, username)
  }

  /** Signs an account out: its tokens and account entries leave the cache. */
  removeAccount(account: Pick<Account, 'home_account_id' | 'environment'>): Promise<void> {
    return signOut(this.app, account)
  }

  /**
   * MSAL's remove_tokens_for_client: the app-only access tokens of this client id leave the cache,
   * under this host and its aliases; user tokens, accounts and other clients' tokens stay. MSAL
   * has it on confidential clients only; it needs no credential, so it lives here.
   */
  removeTokensForClient(): Promise<void> {
    return removeClientTokens(this.app)
  }

  /** MSAL's acquire_token_silent: a token, or undefined whatever went wrong. */
  async acquireTokenSilent(
    scopes: readonly string[],
    account: Account | null | undefined,
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
   * (or its family's). Undefined when the cache has nothing to work with, or when no account is
   * given (MSAL's no-op for None); the provider's error when it refused (an
   * `interaction_required` kind when a person has to sign in again).
   */
  async acquireTokenSilentWithError(
    scopes: readonly string[],
    account: Account | null | undefined,
    options: SilentOptions = {},
  ): Promise<AuthenticationResult | undefined> {
    checkOptions('acquireTokenSilent options', options, silentRules)
    checkArgument('account', account, argumentRules.account)
    return silentToken(this.app, scopes, account, options)
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

  /** MSAL's acquire_token_by_username_password (ROPC). Federated accounts are refused up front. */
  async acquireTokenByUsernamePassword(
    username: string,
    password: string,
    scopes: readonly string[],
    options: { claimsChallenge?: string; authScheme?: PopAuthScheme; maxAge?: number } = {},
  ): Promise<AuthenticationResult> {
    checkOptions('acquireTokenByUsernamePassword options', options, passwordRules)
    const popKey = await this.app.popKeyFor(options.authScheme)
    const grant = await passwordGrant(this.app, username, password, scopes, {
      ...(options.claimsChallenge !== undefined
        ? { claimsChallenge: options.claimsChallenge }
        : {}),
      ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
      ...(popKey ? { popKey } : {}),
    })
    const result = await redeemUserGrant(this.app, grant)
    return presented(result, popKey, options.authScheme, this.clock)
  }

  /**
   * MSAL's get_authorization_request_url: a plain authorize URL (no PKCE), for web apps that keep
   * their own state and nonce.
   */
  getAuthorizationRequestUrl(
    scopes: readonly string[],
    options: AuthorizationUrlOptions = {},
  ): Promise<string> {
    checkOptions('getAuthorizationRequestUrl options', options, authorizationUrlRules)
    return authorizationRequestUrl(this.app, scopes, options)
  }

  /**
   * MSAL's initiate_auth_code_flow: state, nonce and a PKCE verifier from a cryptographic source,
   * and the authorize URL that carries them; keep the flow to redeem its answer.
   */
  async initiateAuthCodeFlow(
    scopes: readonly string[],
    options: AuthCodeFlowOptions = {},
  ): Promise<AuthCodeFlow> {
    checkOptions('initiateAuthCodeFlow options', options, authCodeFlowRules)
    return newAuthCodeFlow(this.app, scopes, options)
  }

  /** Redeems the answer to a flow: state, error, nonce and max_age checked as MSAL does, and more. */
  async acquireTokenByAuthCodeFlow(
    flow: AuthCodeFlow,
    response: Record<string, string>,
    scopes?: readonly string[],
    options: { apiId?: number } = {},
  ): Promise<AuthenticationResult> {
    checkArgument('flow', flow, argumentRules.flow)
    checkArgument('response', response, argumentRules.response)
    checkOptions('acquireTokenByAuthCodeFlow options', options, flowRedeemRules)
    const grant = await authCodeFlowGrant(this.app, flow, response, scopes, options)
    return redeemUserGrant(this.app, grant)
  }

  /** MSAL's acquire_token_by_authorization_code: a bare code, with an optional raw nonce check. */
  async acquireTokenByAuthorizationCode(
    code: string,
    scopes: readonly string[],
    options: { redirectUri?: string; nonce?: string; claimsChallenge?: string } = {},
  ): Promise<AuthenticationResult> {
    checkOptions('acquireTokenByAuthorizationCode options', options, authorizationCodeRules)
    return redeemUserGrant(this.app, authorizationCodeGrant(this.app, code, scopes, options))
  }

  /**
   * MSAL's acquire_token_by_refresh_token, for migrating a refresh token kept elsewhere: the new
   * tokens and the account are cached; the given token itself never is.
   */
  async acquireTokenByRefreshToken(
    refreshToken: string,
    scopes: readonly string[],
  ): Promise<AuthenticationResult> {
    return redeemUserGrant(this.app, migrationGrant(this.app, refreshToken, scopes))
  }
}
