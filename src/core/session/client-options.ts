import type { AuthorityBuilder } from '../authority/authority.js'
import type { Clock } from '../kernel/clock.js'
import type { HttpClient, HttpOptions } from '../http/types.js'
import type { Logger } from '../kernel/log.js'
import type { JsonStore } from '../kernel/json-store.js'
import type { SerializableTokenCache } from '../token-cache/token-cache.js'

/** What every client of the engine takes, as MSAL names it: the token cache, the HTTP stack, logging. */
export interface SharedClientOptions {
  tokenCache?: SerializableTokenCache
  /** Where the token cache is kept between runs; in memory when absent. */
  cacheStore?: JsonStore
  /** Bring your own HTTP stack; verify, proxies and timeout then do not apply. */
  httpClient?: HttpClient
  /** false disables TLS verification; a string is a CA bundle file to trust as well. */
  verify?: boolean | string
  /**
   * The proxy for every request, or one for each scheme as MSAL's `proxies` mapping gives them
   * (`{ https: 'http://proxy:3128' }`); an http:// or https:// URL with no path (msal-ts talks to
   * no SOCKS proxy). The `http` entry carries http:// URLs only and `https` https:// ones, as in
   * requests' mapping; a scheme mapped to null or undefined goes direct, as with None in MSAL's.
   * Without it HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply.
   */
  proxies?: string | { http?: string | null; https?: string | null }
  /** Seconds per request, above 0 and at most 2147483 (the longest wait Node's timers take). Default 30. */
  timeout?: number
  logger?: Logger
  /** Lets tokens, secrets, codes and user names reach the logger; they are masked by default. */
  enablePiiLog?: boolean
  clock?: Clock
}

/** The constructor options of MSAL's ClientApplication, in camelCase. */
export interface ClientApplicationOptions extends SharedClientOptions {
  clientId: string
  /** Default `https://login.microsoftonline.com/common`. */
  authority?: string | AuthorityBuilder
  validateAuthority?: boolean
  /** false skips instance discovery; a string names a custom instance discovery endpoint. */
  instanceDiscovery?: boolean | string
  /** Any OpenID provider: its metadata is at `<oidcAuthority>/.well-known/openid-configuration`. */
  oidcAuthority?: string
  clientClaims?: Record<string, unknown>
  /** Sent as x-app-name: printable ASCII, the bytes then being the same by any route. */
  appName?: string
  /** Sent as x-app-ver: printable ASCII. */
  appVersion?: string
  clientCapabilities?: string[]
  /**
   * A region name, `true` (or "auto") to detect it, false or "" for none. Left out (or null, as
   * MSAL's None), MSAL_FORCE_REGION is used when set.
   */
  azureRegion?: string | boolean
  /**
   * Where MSAL_FORCE_REGION, REGION_NAME and AZURE_POD_IDENTITY_AUTHORITY_HOST are read from;
   * default the process environment, as MSAL reads them.
   */
  env?: Record<string, string | undefined>
  excludeScopes?: string[]
  /** Where discovery answers and throttle state are kept between runs; in memory when absent. */
  httpCache?: JsonStore
  /** Where the Proof-of-Possession key pair is kept between runs; in memory when absent. */
  popKeyStore?: JsonStore
}

export interface ClientTokenOptions {
  /** An extra claims challenge (JSON), e.g. from a resource's WWW-Authenticate; skips the cached token. */
  claimsChallenge?: string
  /** Skip the cached token and ask the identity provider. */
  forceRefresh?: boolean
  /** A cached token must stay valid this many seconds (at least MSAL's 300). */
  minValidity?: number
}

/** The proxies set, a scheme mapped to null or undefined left out. */
function proxyOf(proxies: SharedClientOptions['proxies']): Pick<HttpOptions, 'proxy'> {
  if (typeof proxies !== 'object' || proxies === null) {
    return proxies ? { proxy: proxies } : {}
  }
  const { http, https } = proxies
  return http || https ? { proxy: { ...(http ? { http } : {}), ...(https ? { https } : {}) } } : {}
}

/** MSAL's verify, proxies and timeout (seconds) as the options of our own HTTP client. */
export function httpOptionsOf(options: SharedClientOptions): HttpOptions {
  const { verify } = options
  return {
    timeoutMs: (options.timeout ?? 30) * 1000,
    ...proxyOf(options.proxies),
    ...(typeof verify === 'string' ? { caFile: verify } : {}),
    ...(verify === false ? { insecure: true } : {}),
  }
}
