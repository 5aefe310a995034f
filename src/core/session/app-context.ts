import { defaultAuthority, parseAuthority } from '../authority/authority.js'
import { systemClock } from '../kernel/clock.js'
import { discoverEndpoints, type Endpoints } from '../authority/discovery.js'
import { type ClientApplicationOptions, httpOptionsOf } from './client-options.js'
import type { GrantContext } from '../grants/context.js'
import { createHttpClient } from '../http/client.js'
import { withHttpCache } from '../http/cache.js'
import type { HttpClient } from '../http/types.js'
import { type Logger, piiAwareLogger, silentLogger } from '../kernel/log.js'
import { type JsonStore, memoryStore } from '../kernel/json-store.js'
import { SerializableTokenCache } from '../token-cache/token-cache.js'

/** The transport behind MSAL's HTTP cache, which can also be asked what it holds without a request. */
export type CachingHttpClient = HttpClient & {
  peek(url: string): Promise<{ body: string } | undefined>
}

/** What the flows of an application share: its grant context, its token cache and where it is kept. */
export interface AppContext extends GrantContext {
  readonly tokenCache: SerializableTokenCache
  readonly options: ClientApplicationOptions
  readonly log: Logger
  readonly cacheStore: JsonStore
  /**
   * Whether the token cache lives in `cacheStore` (reloaded before each use, written after). When
   * false the `tokenCache` object itself is the state, as MSAL's `token_cache=` is: the caller may
   * have deserialized into it, and other apps may share it.
   */
  readonly persisted: boolean
  http(): CachingHttpClient
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
