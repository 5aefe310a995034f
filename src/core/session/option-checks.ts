import { UsageError } from '../kernel/errors.js'
import { quoted } from '../kernel/quoted.js'
import type { ClientApplicationOptions, SharedClientOptions } from './client-options.js'
import { isPlainObject } from './option-shape.js'

/**
 * The longest timeout, in seconds: Node's timers (AbortSignal.timeout among them) take at most
 * 2^31-1 ms, and a longer one throws at the first request instead of waiting.
 */
export const maxTimeoutSeconds = 2_147_483

/** Why `seconds` cannot be a request timeout, or undefined when it can. */
export function timeoutProblem(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    return 'must be a positive number of seconds'
  }
  return seconds > maxTimeoutSeconds
    ? `must be at most ${maxTimeoutSeconds} seconds (about 24 days)`
    : undefined
}

/**
 * The proxies undici tunnels through. A socks:// one it would take and then send TLS straight to
 * the SOCKS port, failing every request with a reset connection.
 */
const proxySchemes = ['http:', 'https:']

/**
 * Why `text` cannot be a proxy URL, or undefined when it can: undici takes only an origin, with
 * user and password percent-encoded, and would otherwise fail at the first request instead.
 */
export function proxyUrlProblem(text: string): string | undefined {
  if (!URL.canParse(text)) {
    return 'takes a URL'
  }
  const url = new URL(text)
  if (!proxySchemes.includes(url.protocol)) {
    return 'takes an http:// or https:// URL (msal-ts talks to http:// and https:// proxies only)'
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return 'takes a URL with no path, query or fragment'
  }
  if (!isDecodable(url.username) || !isDecodable(url.password)) {
    return 'takes a user and password percent-encoded as in a URL (%25 for %)'
  }
  return undefined
}

/**
 * A proxy URL as an error line may show it: a password in it (`http://user:secret@host`) becomes
 * `***`, as CI logs keep what a failed run printed.
 */
export function proxyShown(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined
  if (url !== undefined && url.password !== '') {
    url.password = '***'
    return url.href
  }
  // Not a URL with a password as WHATWG reads it (`user:pw@host` parses as a scheme `user:`), but it
  // may still carry `user:password@` before a host.
  return text.replace(
    /^([^/]*\/\/)?[^@/]*:[^@/]*@/,
    (_, scheme: string | undefined) => `${scheme ?? ''}***@`,
  )
}

function isDecodable(text: string): boolean {
  try {
    decodeURIComponent(text)
    return true
  } catch {
    return false
  }
}

/**
 * Why `text` cannot go in a header, or undefined when it can: a control character could end the
 * header and start another, and beyond ASCII Node's client sends UTF-8 bytes where undici (through
 * a proxy) sends Latin-1 ones, so the server would see another name depending on the route.
 */
export function headerValueProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') {
    return 'must be a string'
  }
  return /^[\x20-\x7e]*$/.test(text) ? undefined : 'must be printable ASCII text'
}

/** Refuses, at construction, the HTTP options that would otherwise fail every request. */
export function checkSharedOptions(options: SharedClientOptions): void {
  const timeout = options.timeout === undefined ? undefined : timeoutProblem(options.timeout)
  if (timeout !== undefined) {
    throw new UsageError('invalid_timeout', `timeout ${timeout}, not ${quoted(options.timeout)}`)
  }
  checkProxies(options.proxies)
}

function checkProxies(proxies: unknown): void {
  if (proxies === undefined) {
    return
  }
  const bad = (why: string) => new UsageError('invalid_proxy', `proxies ${why}`)
  if (typeof proxies === 'string') {
    const problem = proxyUrlProblem(proxies)
    if (problem !== undefined) {
      throw bad(`${problem}, not ${quoted(proxyShown(proxies))}`)
    }
    return
  }
  if (!isPlainObject(proxies)) {
    throw bad(`must be a proxy URL or { http, https } of proxy URLs, not ${quoted(proxies)}`)
  }
  for (const [scheme, url] of Object.entries(proxies)) {
    if (scheme !== 'http' && scheme !== 'https') {
      throw bad(`maps only "http" and "https" to proxy URLs, not ${quoted(scheme)}`)
    }
    // null, as None in MSAL's mapping, is no proxy for that scheme.
    if (url === undefined || url === null) {
      continue
    }
    const problem = typeof url === 'string' ? proxyUrlProblem(url) : 'takes a URL'
    if (problem !== undefined) {
      throw bad(
        `${problem}, not ${typeof url === 'string' ? quoted(proxyShown(url)) : quoted(url)} for ${scheme}`,
      )
    }
  }
}

/** Refuses, at construction, the application options that would otherwise fail every request. */
export function checkClientOptions(options: ClientApplicationOptions): void {
  checkSharedOptions(options)
  for (const [key, code] of [
    ['appName', 'invalid_app_name'],
    ['appVersion', 'invalid_app_version'],
  ] as const) {
    const problem = options[key] === undefined ? undefined : headerValueProblem(options[key])
    if (problem !== undefined) {
      throw new UsageError(code, `${key} ${problem}, not ${quoted(options[key])}`)
    }
  }
}
