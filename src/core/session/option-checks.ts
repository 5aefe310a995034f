import { UsageError } from '../kernel/errors.js'
import { controlCharacter } from '../kernel/control-characters.js'
import { quoted } from '../kernel/quoted.js'
import type { ClientApplicationOptions, SharedClientOptions } from './client-options.js'

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
 * Why `text` cannot go in a header, or undefined when it can: a control character could end the
 * header and start another, and Node refuses anything beyond Latin-1 at the first request.
 */
export function headerValueProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') {
    return 'must be a string'
  }
  return controlCharacter.test(text) || /[\u0100-\u{10ffff}]/u.test(text)
    ? 'must be printable Latin-1 text, without control characters'
    : undefined
}

/** Refuses, at construction, the HTTP options that would otherwise fail every request. */
export function checkSharedOptions(options: SharedClientOptions): void {
  const timeout = options.timeout === undefined ? undefined : timeoutProblem(options.timeout)
  if (timeout !== undefined) {
    throw new UsageError('invalid_timeout', `timeout ${timeout}, not ${quoted(options.timeout)}`)
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
