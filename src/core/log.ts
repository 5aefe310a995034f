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

const secretParams =
  /([?&#](?:code|client_secret|client_assertion|assertion|refresh_token|access_token|id_token|password|username|login_hint|device_code|user_code|nonce|state)=)[^&#\s]*/gi
const jwtShaped = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g
const userRealm = /(\/userrealm\/)[^?\s]+/gi

/** Masks tokens, codes, secrets and user names in text meant for a log line. */
export function redact(text: string): string {
  return text.replace(secretParams, '$1***').replace(jwtShaped, '***').replace(userRealm, '$1***')
}
