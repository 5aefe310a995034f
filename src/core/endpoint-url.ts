import { isLoopbackHost } from './authority.js'
import { RuntimeFailure } from './errors.js'

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
      `${what} ${quoted(value)} is not an https URL (http is allowed on loopback hosts only)`,
    )
  }
  return value
}

/** Text from a provider, quoted and cut short so a hostile value cannot flood the error line. */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value)
}
