import { findAccessTokens, pickAccessToken } from '../token-cache/lookup.js'
import { type Clock, systemClock } from '../kernel/clock.js'
import { UsageError } from '../kernel/errors.js'
import type {
  ManagedIdentityClientOptions,
  ManagedIdentityTokenOptions,
} from './managed-identity-options.js'
import { httpOptionsOf } from '../session/client-options.js'
import { checkSharedOptions } from '../session/option-checks.js'
import { checkArgument, checkOptions, text } from '../session/option-shape.js'
import { createHttpClient } from '../http/client.js'
import type { HttpClient } from '../http/types.js'
import { type Logger, piiAwareLogger, silentLogger } from '../kernel/log.js'
import { memoryStore } from '../kernel/json-store.js'
import type { AuthenticationResult } from '../protocol/result.js'
import { SerializableTokenCache } from '../token-cache/token-cache.js'
import {
  agingOnFailure,
  type CacheSession,
  fetchOnce,
  loadCache,
} from '../session/single-flight.js'
import {
  defaultImdsRetryDelaysMs,
  identityCacheId,
  type ManagedIdentityId,
  type ManagedIdentitySourceName,
  managedIdentitySource,
  obtainToken,
} from '../managed-identity/sources.js'
import {
  identityIdsElsewhere,
  managedIdentityRules,
  managedIdentityTokenRules,
} from './option-tables.js'

/** Where managed identity tokens are filed in the cache (msal-node's placeholder authority). */
const managedIdentityEnvironment = 'login.microsoftonline.com'
const managedIdentityRealm = 'managed_identity'
export const managedIdentityAuthority = `https://${managedIdentityEnvironment}/${managedIdentityRealm}`

/**
 * The one id the checks found, without the fields left undefined: the sources pick the id by the
 * field's presence, so `{ clientId, objectId: undefined }` would go out as an undefined object id.
 */
function givenId(id: ManagedIdentityId | undefined): ManagedIdentityId | undefined {
  return id === undefined
    ? undefined
    : (Object.fromEntries(
        Object.entries(id).filter(([, value]) => value !== undefined),
      ) as ManagedIdentityId)
}

/** MSAL's ManagedIdentityClient: app-only tokens for the machine's (or the app's) managed identity. */
export class ManagedIdentityClient {
  readonly tokenCache: SerializableTokenCache
  readonly #options: ManagedIdentityClientOptions
  readonly #env: Record<string, string | undefined>
  /** The token cache and its store, shared with the single flight every client uses. */
  readonly #session: CacheSession
  readonly #clock: Clock
  readonly #log: Logger
  readonly #cacheId: string
  #http: HttpClient | undefined
  readonly #imds = { answered: false }
  #closeHttp: (() => Promise<void>) | undefined

  /** No network here. */
  constructor(options: ManagedIdentityClientOptions = {}) {
    checkOptions('ManagedIdentityClient options', options, managedIdentityRules, {
      elsewhere: identityIdsElsewhere,
    })
    checkSharedOptions(options)
    this.#options = { ...options, managedIdentity: givenId(options.managedIdentity) }
    // The public entry point is the one place the process environment is read: the engine below
    // takes it as given, so a caller (the CLI) can hand over its own.
    this.#env = options.env ?? process.env
    this.tokenCache = options.tokenCache ?? new SerializableTokenCache()
    this.#clock = options.clock ?? systemClock
    this.#log = options.logger ? piiAwareLogger(options.logger, options) : silentLogger
    this.#session = {
      tokenCache: this.tokenCache,
      cacheStore: options.cacheStore ?? memoryStore(),
      persisted: options.cacheStore !== undefined,
      log: this.#log,
    }
    this.#cacheId = identityCacheId(this.#options.managedIdentity)
  }

  /** The source the environment names; no request is made. */
  get source(): ManagedIdentitySourceName {
    return managedIdentitySource(this.#env)
  }

  async close(): Promise<void> {
    await this.#closeHttp?.()
  }

  /**
   * A token for `resource` (a resource URI; a trailing `/.default` is dropped), from the cache when one
   * is still valid. A token past its refresh_on is refreshed, and served if the refresh fails.
   */
  async acquireTokenForClient(
    resource: string,
    options: ManagedIdentityTokenOptions = {},
  ): Promise<AuthenticationResult> {
    checkArgument('resource', resource, text)
    checkOptions('acquireTokenForClient options', options, managedIdentityTokenRules)
    const wanted = resource.trim().replace(/\/\.default$/i, '')
    if (!wanted) {
      throw new UsageError('missing_resource', 'a resource is required')
    }
    const query = {
      clientId: this.#cacheId,
      environment: managedIdentityEnvironment,
      homeAccountId: null,
      scopes: [wanted],
    }
    const skipCache = options.forceRefresh === true || options.claimsChallenge !== undefined
    const pick = (exclude: ReadonlySet<string>) =>
      pickAccessToken(this.tokenCache, query, [managedIdentityRealm], {
        now: this.#clock(),
        exclude,
      })
    await loadCache(this.#session)
    const replaced = new Set(
      skipCache
        ? findAccessTokens(this.tokenCache, query, [managedIdentityRealm]).map((at) => at.secret)
        : [],
    )
    let aging: AuthenticationResult | undefined
    if (!skipCache) {
      const found = pick(replaced)
      if (found.hit) {
        this.#log({ kind: 'cache', op: 'hit', detail: 'managed identity access token' })
        return found.hit
      }
      aging = found.aging
    }
    return agingOnFailure(
      () => aging,
      () =>
        fetchOnce(
          this.#session,
          () => pick(replaced).hit,
          () => this.#request(wanted, options.signal),
        ),
    )
  }

  async #request(resource: string, signal: AbortSignal | undefined): Promise<AuthenticationResult> {
    const now = this.#clock()
    const token = await obtainToken(
      {
        http: this.#httpClient(),
        env: this.#env,
        log: this.#log,
        now: this.#clock,
        retryDelaysMs: this.#options.imdsRetryDelaysMs ?? defaultImdsRetryDelaysMs,
        imds: this.#imds,
        ...(signal ? { signal } : {}),
      },
      this.#options.managedIdentity,
      resource,
    )
    // MSAL refreshes long-lived managed identity tokens at half their lifetime.
    const refreshIn = token.expires_in >= 7200 ? Math.trunc(token.expires_in / 2) : undefined
    this.tokenCache.add({
      clientId: this.#cacheId,
      environment: managedIdentityEnvironment,
      realm: managedIdentityRealm,
      scopes: [resource],
      response: {
        access_token: token.access_token,
        token_type: token.token_type,
        expires_in: token.expires_in,
        ...(refreshIn !== undefined ? { refresh_in: refreshIn } : {}),
      },
      grantType: 'managed_identity',
      now,
    })
    return {
      access_token: token.access_token,
      token_type: token.token_type,
      expires_in: token.expires_in,
      expires_on: now + token.expires_in,
      ...(refreshIn !== undefined ? { refresh_on: now + refreshIn } : {}),
      scope: [resource],
      token_source: 'identity_provider',
    }
  }

  #httpClient(): HttpClient {
    if (this.#http === undefined) {
      if (this.#options.httpClient) {
        this.#http = this.#options.httpClient
      } else {
        const client = createHttpClient(httpOptionsOf(this.#options), this.#log)
        this.#closeHttp = () => client.close()
        this.#http = client
      }
    }
    return this.#http
  }
}
