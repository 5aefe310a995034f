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
  proxies?: string
  /** Seconds per request. Default 30. */
  timeout?: number
  logger?: Logger
  /** Lets tokens, secrets, codes and user names reach the logger; they are masked by default. */
  enablePiiLog?: boolean
  clock?: Clock
}

/** MSAL's verify, proxies and timeout (seconds) as the options of our own HTTP client. */
export function httpOptionsOf(options: SharedClientOptions): HttpOptions {
  const { verify } = options
  return {
    timeoutMs: (options.timeout ?? 30) * 1000,
    ...(options.proxies ? { proxy: options.proxies } : {}),
    ...(typeof verify === 'string' ? { caFile: verify } : {}),
    ...(verify === false ? { insecure: true } : {}),
  }
}
