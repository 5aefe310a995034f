import { RuntimeFailure } from '../kernel/errors.js'
import { quoted } from '../kernel/quoted.js'

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
}

/**
 * Whether a URL from outside may receive credentials or be shown to a person as where to sign in:
 * `https://`, or plain `http://` on a loopback host (a local identity provider). Anything else
 * (`javascript:`, `data:`, `file:`, http across the network) is refused, and so is a URL with
 * user info, whose `https://login.microsoftonline.com@evil.example/` reads as the wrong host.
 */
export function isSafeUrl(text: string): boolean {
  if (!URL.canParse(text)) {
    return false
  }
  const url = new URL(text)
  if (url.username !== '' || url.password !== '') {
    return false
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
}

/** The URL when it is safe (see isSafeUrl); otherwise one clean line naming where it came from. */
export function safeUrl(value: string, what: string): string {
  if (!isSafeUrl(value)) {
    throw new RuntimeFailure(
      'invalid_response',
      `${what} is not an https URL (${origin(value)}; http is allowed on loopback hosts only)`,
    )
  }
  return value
}

/**
 * Where a refused URL points, without its path: the whole of a `javascript:` or `data:` URL is the
 * attacker's payload, and an error line must not carry it to the person as something to open.
 */
function origin(value: string): string {
  if (!URL.canParse(value)) {
    return 'not a URL'
  }
  const url = new URL(value)
  return url.host === '' ? `scheme ${quoted(url.protocol)}` : quoted(`${url.protocol}//${url.host}`)
}
