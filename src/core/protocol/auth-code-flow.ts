import { OAuthServerError, UsageError } from '../kernel/errors.js'

/** MSAL's initiate_auth_code_flow result: everything needed to redeem the answer later. */
export interface AuthCodeFlow {
  state: string
  redirect_uri?: string
  /** The decorated scopes, plus openid. */
  scope: string[]
  auth_uri: string
  code_verifier: string
  /** The raw nonce; the authorize URL carried its SHA-256 hex. */
  nonce: string
  max_age?: number
  claims_challenge: string | null
  [field: string]: unknown
}

/** The authorize URL's query in MSAL's order; absent values are left out. */
export function authorizationUrl(
  endpoint: string,
  query: Record<string, string | undefined>,
): string {
  const url = new URL(endpoint)
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') {
      url.searchParams.append(name, value)
    }
  }
  return url.toString()
}

/**
 * The redirect's parameters from whatever the caller has: the redirect URL (query or fragment),
 * a bare query string, a form_post body, or a JSON object.
 */
export function parseAuthResponse(text: string): Record<string, string> {
  const input = text.trim()
  if (input.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(input)
    } catch {
      throw new UsageError('invalid_response', 'the response looks like JSON but does not parse')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError('invalid_response', 'the response JSON must be an object')
    }
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string'))
  }
  let params = input
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    const url = new URL(input)
    params = url.search.length > 1 ? url.search : url.hash
  }
  const parsed = Object.fromEntries(new URLSearchParams(params.replace(/^[?#]/, '')))
  if (Object.keys(parsed).length === 0) {
    throw new UsageError('invalid_response', 'the response holds no parameters')
  }
  return parsed
}

/**
 * MSAL's first checks on an auth code flow answer, in its order: the flow has a state, the answer
 * echoes it, the scopes asked now are a subset of the flow's. They need nothing from the network.
 */
export function checkAuthState(
  flow: AuthCodeFlow,
  response: Record<string, string>,
  scopes?: readonly string[],
): void {
  if (!flow.state) {
    throw new UsageError('state_missing', 'the flow has no state', { hint: 'start_auth_code_flow' })
  }
  if (response['state'] !== flow.state) {
    throw new UsageError(
      'state_mismatch',
      'the response state does not match the flow: it belongs to another sign-in, or was tampered with',
    )
  }
  if (scopes && !scopes.every((s) => flow.scope.includes(s))) {
    throw new UsageError(
      'scope_mismatch',
      `the scopes must be a subset of the flow's (${flow.scope.join(' ')})`,
    )
  }
}

/** What the provider's metadata says about `iss` in its authorization responses (RFC 9207). */
export interface ResponseIssuer {
  issuer?: string
  /** `authorization_response_iss_parameter_supported`: then an answer without `iss` is refused. */
  required: boolean
}

/**
 * The code of an answer whose state already passed: its `iss` checked first (RFC 9207, so a
 * response from another provider the client also uses is refused, error responses included), then
 * a code, or an error reported with only its error fields (anything else an attacker put there is
 * dropped).
 */
export function authCodeOf(response: Record<string, string>, expected: ResponseIssuer): string {
  const iss = response['iss']
  if (iss === undefined ? expected.required : !issuerMatches(iss, expected.issuer)) {
    throw new UsageError(
      'issuer_mismatch',
      `the response ${iss === undefined ? 'names no issuer' : `comes from the issuer ${JSON.stringify(iss)}`}, not ${expected.issuer ?? 'this authority'}: it may come from another identity provider`,
    )
  }
  const code = response['code']
  if (code) {
    return code
  }
  const error = response['error']
  if (error) {
    throw new OAuthServerError(400, {
      error,
      ...(response['error_description'] !== undefined
        ? { error_description: response['error_description'] }
        : {}),
      ...(response['error_uri'] !== undefined ? { error_uri: response['error_uri'] } : {}),
    })
  }
  throw new UsageError('invalid_response', 'the response has neither a code nor an error')
}

/** Entra's multi-tenant metadata names its issuer with a `{tenantid}` placeholder: any one tenant. */
function issuerMatches(actual: string, expected: string | undefined): boolean {
  if (expected === undefined) {
    return true
  }
  const [before = '', after] = expected.replace(/\/+$/, '').split('{tenantid}')
  const trimmed = actual.replace(/\/+$/, '')
  if (after === undefined) {
    return trimmed === before
  }
  const tenant = trimmed.slice(before.length, trimmed.length - after.length)
  return trimmed.startsWith(before) && trimmed.endsWith(after) && /^[^/]+$/.test(tenant)
}

/** Reads a flow file's JSON, as `auth-url --flow-file` wrote it. */
export function parseFlow(text: string): AuthCodeFlow {
  let flow: unknown
  try {
    flow = JSON.parse(text)
  } catch {
    throw new UsageError('invalid_flow', 'the flow file is not valid JSON')
  }
  const f = flow as Partial<AuthCodeFlow> | null
  if (
    typeof f !== 'object' ||
    f === null ||
    !Array.isArray(f.scope) ||
    typeof f.code_verifier !== 'string'
  ) {
    throw new UsageError('invalid_flow', 'the flow file is not an auth code flow', {
      hint: 'start_auth_code_flow',
    })
  }
  return f as AuthCodeFlow
}
