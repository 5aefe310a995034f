import type { ClientApplicationOptions } from '../clients/application.js'
import { type Authority, defaultAuthority, parseAuthority } from '../authority/authority.js'
import type { ClientAuthentication } from '../credentials/client-auth.js'
import { type Clock, systemClock } from '../kernel/clock.js'
import { discoverEndpoints, type Endpoints } from '../authority/discovery.js'
import { httpOptionsOf } from './client-options.js'
import { createHttpClient } from '../http/client.js'
import { withHttpCache } from '../http/cache.js'
import type { HttpClient } from '../http/types.js'
import { type Logger, piiAwareLogger, silentLogger } from '../kernel/log.js'
import { type JsonStore, memoryStore } from '../kernel/json-store.js'
import type { PopAuthScheme } from '../protocol/pop.js'
import type { PopKey } from '../credentials/pop-key.js'
import { decorateScopes, mergeClaims, normalizeScopes } from '../protocol/scopes.js'
import { SerializableTokenCache } from '../token-cache/token-cache.js'

/** The transport behind MSAL's HTTP cache, which can also be asked what it holds without a request. */
export type CachingHttpClient = HttpClient & {
  peek(url: string): Promise<{ body: string } | undefined>
}

/** What the flows of an application share: its settings, its HTTP client, endpoints and cache. */
export interface AppContext {
  readonly clientId: string
  readonly authority: Authority
  readonly tokenCache: SerializableTokenCache
  readonly options: ClientApplicationOptions
  readonly clock: Clock
  readonly log: Logger
  readonly cacheStore: JsonStore
  /**
   * Whether the token cache lives in `cacheStore` (reloaded before each use, written after). When
   * false the `tokenCache` object itself is the state, as MSAL's `token_cache=` is: the caller may
   * have deserialized into it, and other apps may share it.
   */
  readonly persisted: boolean
  http(): CachingHttpClient
  /** The authority's endpoints, discovered once per application (and once a day across processes). */
  endpoints(): Promise<Endpoints>
  /** Credentials a confidential client adds to every grant; a public client has none. */
  clientAuthentication(endpoints: Endpoints): Promise<ClientAuthentication>
  /** The key a Proof-of-Possession token is bound to; undefined for a bearer token. */
  popKeyFor(scheme: PopAuthScheme | undefined): Promise<PopKey | undefined>
  /** Releases kept-alive connections and the cache store. */
  close(): Promise<void>
}

/** The hooks a subclass may change, kept on the application object. */
export type AppHooks = Pick<AppContext, 'clientAuthentication' | 'popKeyFor'>

/** No network here: the HTTP client is made, and discovery runs, when a request needs them. */
export function appContext(options: ClientApplicationOptions, hooks: AppHooks): AppContext {
  const clock = options.clock ?? systemClock
  const log = options.logger ? piiAwareLogger(options.logger, options) : silentLogger
  const cacheStore = options.cacheStore ?? memoryStore()
  let http: CachingHttpClient | undefined
  let closeHttp: (() => Promise<void>) | undefined
  let endpoints: Promise<Endpoints> | undefined
  const app: AppContext = {
    clientId: options.clientId.trim(),
    authority: options.oidcAuthority
      ? parseAuthority(options.oidcAuthority.replace(/\/+$/, ''), { oidc: true })
      : parseAuthority(String(options.authority ?? defaultAuthority)),
    tokenCache: options.tokenCache ?? new SerializableTokenCache(),
    options,
    clock,
    log,
    cacheStore,
    persisted: options.cacheStore !== undefined,
    http() {
      if (http === undefined) {
        let inner = options.httpClient
        if (inner === undefined) {
          const client = createHttpClient(httpOptionsOf(options), log)
          closeHttp = () => client.close()
          inner = client
        }
        http = withHttpCache(inner, { store: options.httpCache ?? memoryStore(), clock, log })
      }
      return http
    },
    endpoints() {
      endpoints ??= discoverEndpoints(app.http(), app.authority, {
        instanceDiscovery: options.instanceDiscovery ?? true,
        validateAuthority: options.validateAuthority ?? true,
      })
      return endpoints
    },
    clientAuthentication: hooks.clientAuthentication,
    popKeyFor: hooks.popKeyFor,
    async close() {
      await closeHttp?.()
      await cacheStore.close?.()
    },
  }
  return app
}

/** The `claims` parameter: the caller's challenge merged with the app's client capabilities. */
export function claimsFor(
  app: AppContext,
  claimsChallenge: string | undefined,
): string | undefined {
  return mergeClaims(claimsChallenge, app.options.clientCapabilities)
}

/** The decorated scope set of a user flow, as a sorted string for the wire and as a list. */
export function userScopesFor(app: AppContext, scopes: readonly string[]): string[] {
  const wanted = normalizeScopes(scopes)
  return decorateScopes(wanted, app.options.excludeScopes ?? [])
}

export function appHeadersFor(app: AppContext): { appName?: string; appVersion?: string } {
  return {
    ...(app.options.appName ? { appName: app.options.appName } : {}),
    ...(app.options.appVersion ? { appVersion: app.options.appVersion } : {}),
  }
}
