/** What the engine reports while it works. Sinks decide what to show; `redact` keeps secrets out. */
export type LogEvent =
  | {
      kind: 'http'
      method: string
      url: string
      status?: number
      ms: number
      attempt: number
      error?: string
    }
  | { kind: 'retry'; url: string; reason: string; waitMs: number }
  | { kind: 'cache'; op: 'hit' | 'miss' | 'write' | 'wait' | 'skip'; detail: string }
  | { kind: 'discovery'; url: string; source: 'http-cache' | 'network' }
  | { kind: 'warning'; message: string }

export type Logger = (event: LogEvent) => void

export const silentLogger: Logger = () => undefined

/**
 * The caller's logger as MSAL's enable_pii_log says: every text of every event redacted unless
 * PII logging is on, so a library user's log holds no token, secret, code or user name by default.
 */
export function piiAwareLogger(logger: Logger, options: { enablePiiLog?: boolean }): Logger {
  if (options.enablePiiLog === true) {
    return logger
  }
  return (event) =>
    logger(
      Object.fromEntries(
        Object.entries(event).map(([key, value]) => [
          key,
          typeof value === 'string' ? redact(value) : value,
        ]),
      ) as LogEvent,
    )
}

const secretParams =
  /([?&#](?:code|client_secret|client_assertion|assertion|refresh_token|access_token|id_token|password|username|login_hint|device_code|user_code|nonce|state)=)[^&#\s]*/gi
const jwtShaped = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g
const userRealm = /(\/userrealm\/)[^?\s]+/gi

/** Masks tokens, codes, secrets and user names in text meant for a log line. */
export function redact(text: string): string {
  return text.replace(secretParams, '$1***').replace(jwtShaped, '***').replace(userRealm, '$1***')
}
