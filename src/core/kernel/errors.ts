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

/**
 * What the caller can change to get past an error, when that is one of its settings. The engine's
 * message names no CLI flag; a front end keys its own advice ("pass --ca-file") on this.
 */
export type ErrorHint =
  /** Trust the CA of the server's TLS certificate (the `verify` option). */
  | 'trust_certificate'
  /** Turn authority validation off to use an authority instance discovery does not know. */
  | 'validate_authority'
  /** Listen for the redirect on another port. */
  | 'redirect_port'
  /** Sign in interactively (browser or device code) instead of with a password. */
  | 'interactive_sign_in'
  /** Leave the reserved scopes out of the requested ones; exclude profile or offline_access instead. */
  | 'reserved_scope'
  /** Start the auth code flow with the library's own initiation, which writes a complete flow. */
  | 'start_auth_code_flow'
  /** Give the passphrase of the encrypted private key. */
  | 'certificate_password'
  /** Give the certificate's thumbprint, or the certificate itself. */
  | 'certificate_thumbprint'
  /** Give the Azure Pipelines service connection id. */
  | 'service_connection_id'
  /** Say where the CA file (the `verify` path) was set: the engine knows only the path. */
  | 'ca_file_source'

export interface ErrorOptions {
  cause?: unknown
  hint?: ErrorHint
}

/*
 * Each class of ours names itself on its prototype, in a string: the CLI's bundle is minified, and
 * the class's own name would be the minifier's on the first line of a --verbose trace. A caller's
 * subclass, which names nothing, goes by its class's name.
 */
export class MsalTsError extends Error {
  static {
    this.prototype.name = 'MsalTsError'
  }

  readonly code: string
  readonly kind: ErrorKind
  /** Set when changing one of the caller's settings gets past the error. */
  readonly hint?: ErrorHint

  constructor(kind: ErrorKind, code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    // An own field, as before the names moved to the prototypes: spread or JSON-encoded, the
    // error still shows it.
    const prototype = new.target.prototype as Error
    this.name = Object.hasOwn(prototype, 'name') ? prototype.name : new.target.name
    this.kind = kind
    this.code = code
    if (options.hint !== undefined) {
      this.hint = options.hint
    }
  }
}

/** Bad input from the caller; the CLI exits 2. */
export class UsageError extends MsalTsError {
  static {
    this.prototype.name = 'UsageError'
  }

  constructor(code: string, message: string, options?: ErrorOptions) {
    super('usage', code, message, options)
  }
}

/** Network, TLS, I/O or protocol failure; the CLI exits 1. */
export class RuntimeFailure extends MsalTsError {
  static {
    this.prototype.name = 'RuntimeFailure'
  }

  constructor(code: string, message: string, options?: ErrorOptions) {
    super('runtime', code, message, options)
  }
}

export class CancelledError extends MsalTsError {
  static {
    this.prototype.name = 'CancelledError'
  }

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
  static {
    this.prototype.name = 'OAuthServerError'
  }

  readonly status: number
  /** Not enumerable: spreading, logging or JSON-encoding the error leaves it out. */
  declare readonly body: OAuthErrorBody

  /** Fields of another shape than Entra gives them are dropped, whoever built `body`. */
  constructor(status: number, body: OAuthErrorBody) {
    const checked = checkErrorBody(body) ?? { error: 'invalid_response' }
    super(
      interactionErrors.has(checked.error) ? 'interaction_required' : 'server',
      checked.error,
      firstLine(checked.error_description) ?? `the identity provider answered ${status}`,
    )
    this.status = status
    Object.defineProperty(this, 'body', { value: checked, enumerable: false })
  }
}

/**
 * An OAuth error answer with only the fields that have the shape RFC 6749 and Entra give them:
 * anything else is dropped rather than trusted. Undefined when `error` is not shaped as a code.
 */
export function checkErrorBody(body: Record<string, unknown>): OAuthErrorBody | undefined {
  const error = body['error']
  // The code becomes the `<code>` of the CLI's error line, so it must look like one: RFC 6749's
  // codes (and Entra's) are short ASCII words, never spaces, quotes or control characters.
  if (typeof error !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(error)) {
    return undefined
  }
  const checked: OAuthErrorBody = { error }
  for (const name of [
    'error_description',
    'error_uri',
    'suberror',
    'trace_id',
    'correlation_id',
    'timestamp',
    'claims',
  ]) {
    const value = body[name]
    if (typeof value === 'string') {
      checked[name] = value
    }
  }
  const codes = body['error_codes']
  if (Array.isArray(codes) && codes.every((code) => Number.isSafeInteger(code))) {
    checked.error_codes = codes as number[]
  }
  // MSAL stops trying family refresh tokens when this list holds `client_mismatch`.
  const additional = body['error_additional_info']
  if (Array.isArray(additional) && additional.every((item) => typeof item === 'string')) {
    checked['error_additional_info'] = additional
  }
  return checked
}

/** Silent acquisition cannot go on without the user; the CLI exits 3. */
export class InteractionRequiredError extends MsalTsError {
  static {
    this.prototype.name = 'InteractionRequiredError'
  }

  constructor(code: string, message: string, options?: ErrorOptions) {
    super('interaction_required', code, message, options)
  }
}

function firstLine(text: string | undefined): string | undefined {
  // Entra descriptions carry "\r\nTrace ID: ..." tails; those are reported from their own fields.
  const line = text?.split(/\r?\n/, 1)[0]?.trim()
  return line === '' ? undefined : line
}
