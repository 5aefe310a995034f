/**
 * The closed set of failures the engine reports. Every error carries a stable `code`;
 * `kind` says which family it belongs to, which is what a caller (or the CLI's exit code) needs.
 */

export type ErrorKind =
  /** The caller gave something unusable: a malformed authority, PEM, JSON, a missing credential. */
  | 'usage'
  /** The identity provider answered with an OAuth error. */
  | 'server'
  /** A person has to sign in: no usable account, token or refresh token. */
  | 'interaction_required'
  /** Network, TLS, timeout, unreadable response, file-system failure. */
  | 'runtime'
  /** The user stopped it. */
  | 'cancelled'

export interface ErrorOptions {
  cause?: unknown
}

export class MsalTsError extends Error {
  readonly code: string
  readonly kind: ErrorKind

  constructor(kind: ErrorKind, code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.kind = kind
    this.code = code
  }
}

/** Bad input from the caller; the CLI exits 2. */
export class UsageError extends MsalTsError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super('usage', code, message, options)
  }
}

/** Network, TLS, I/O or protocol failure; the CLI exits 1. */
export class RuntimeFailure extends MsalTsError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super('runtime', code, message, options)
  }
}

export class CancelledError extends MsalTsError {
  constructor(message = 'interrupted') {
    super('cancelled', 'cancelled', message)
  }
}

/** The parsed OAuth error body, as Entra sends it. */
export interface OAuthErrorBody {
  error: string
  error_description?: string
  error_codes?: number[]
  suberror?: string
  trace_id?: string
  correlation_id?: string
  timestamp?: string
  error_uri?: string
  claims?: string
  [other: string]: unknown
}

const interactionErrors = new Set([
  'interaction_required',
  'invalid_grant',
  'consent_required',
  'login_required',
])

/** The identity provider said no. The raw body stays off the enumerable fields so it never lands in logs. */
export class OAuthServerError extends MsalTsError {
  readonly status: number
  readonly body: OAuthErrorBody

  constructor(status: number, body: OAuthErrorBody) {
    super(
      interactionErrors.has(body.error) ? 'interaction_required' : 'server',
      body.error,
      firstLine(body.error_description) ?? `the identity provider answered ${status}`,
    )
    this.status = status
    this.body = body
  }
}

/** Silent acquisition cannot go on without the user; the CLI exits 3. */
export class InteractionRequiredError extends MsalTsError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super('interaction_required', code, message, options)
  }
}

function firstLine(text: string | undefined): string | undefined {
  // Entra descriptions carry "\r\nTrace ID: ..." tails; those are reported from their own fields.
  const line = text?.split(/\r?\n/, 1)[0]?.trim()
  return line === '' ? undefined : line
}
