/**
 * The HTTP seam. The engine speaks only through this interface; `createHttpClient` in client.ts is
 * msal-ts's own (Node's https, undici through proxies), and callers may bring their own.
 */
export interface HttpRequest {
  method: 'GET' | 'POST'
  url: string
  headers?: Record<string, string>
  /** Form-encoded body (POST). */
  form?: Record<string, string>
  /** Ends the request early, on top of the client's own timeout. */
  signal?: AbortSignal
  /**
   * A probe: one attempt, no retry, that must be answered within this many milliseconds, making the
   * connection included, instead of the client's timeout.
   */
  probeMs?: number
  /**
   * Trust the HTTPS server by the SHA-1 thumbprint (hex) of its certificate instead of by a CA, as
   * Service Fabric's token service asks; such a request goes direct, never through a proxy.
   */
  serverCertificateSha1?: string
  /** Whether a successful GET answer may be kept in the HTTP cache; default yes. */
  keep?: (response: HttpResponse) => boolean
  /**
   * The request carries a credential outside a form body (a bearer token, a key in a header). Such a
   * request, like every one with a form body, goes only to https or to a loopback host.
   */
  carriesCredential?: boolean
  /** `false`: one attempt, for a caller that runs its own retry policy. Default true. */
  retry?: boolean
  /** The largest body accepted, in bytes; a larger answer fails. Default `defaultMaxBodyBytes`. */
  maxBodyBytes?: number
}

export interface HttpResponse {
  status: number
  /** Lower-cased names. */
  headers: Record<string, string>
  body: string
}

export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>
}

export interface HttpOptions {
  /** Per request, in milliseconds. Default 30 000. */
  timeoutMs?: number
  /**
   * Proxy URL for http and https, or one for each (the mapping MSAL's `proxies` takes); without it
   * HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply.
   */
  proxy?: string | { http?: string; https?: string }
  /** Extra trusted CA certificates (PEM), on top of Node's bundle. */
  ca?: string[]
  /** A PEM file of extra trusted CAs, read when the first request is made. */
  caFile?: string
  /** Skip certificate verification. */
  insecure?: boolean
  /** The longest `Retry-After` waited for in-process before giving up to the caller, in seconds. Default 10. */
  maxRetryAfter?: number
}

export const defaultTimeoutMs = 30_000

/**
 * 1 MiB: the largest answers (a JWKS with many keys, a discovery document) are a few tens of
 * kilobytes, so this bounds memory against an endless body without refusing any real provider.
 */
export const defaultMaxBodyBytes = 1024 * 1024
