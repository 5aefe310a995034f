import { OAuthServerError, RuntimeFailure } from '../kernel/errors.js'
import { safeUrl } from '../http/endpoint-url.js'
import { targetOf } from '../protocol/scopes.js'
import { appHeadersFor, claimsFor, type GrantContext, userScopesFor } from './context.js'
import type { UserGrant } from './redeem.js'
import { apiIds, refreshReasons, tokenRequestHeaders } from './token-request.js'

/** The device authorization answer, plus when it runs out. */
export interface DeviceFlow {
  device_code: string
  user_code: string
  verification_uri: string
  message: string
  interval: number
  expires_in: number
  /** Epoch seconds. */
  expires_at: number
  /** The decorated scopes asked for. */
  scope: string[]
  [field: string]: unknown
}

/** Asks for a device code: the answer tells the person where to go and what to type. */
export async function requestDeviceFlow(
  context: GrantContext,
  scopes: readonly string[],
): Promise<DeviceFlow> {
  const decorated = userScopesFor(context, scopes)
  const endpoints = await context.endpoints()
  if (!endpoints.deviceAuthorizationEndpoint) {
    throw new RuntimeFailure(
      'unsupported',
      `${context.authority.url} does not offer the device code flow`,
    )
  }
  const headers = tokenRequestHeaders({
    apiId: apiIds.deviceFlow,
    refreshReason: refreshReasons.notSilent,
    ...appHeadersFor(context),
  })
  const response = await context.http().request({
    method: 'POST',
    url: endpoints.deviceAuthorizationEndpoint,
    form: { client_id: context.clientId, scope: targetOf(decorated) },
    headers,
  })
  const body = deviceAnswerOf(response.status, response.body)
  if (typeof body['error'] === 'string') {
    throw new OAuthServerError(response.status, { ...body, error: body['error'] })
  }
  return deviceFlowOf(body, { now: context.clock(), scope: decorated })
}

/** One poll of the token endpoint for a device code. */
export function deviceCodeGrant(
  context: GrantContext,
  flow: DeviceFlow,
  options: { claimsChallenge?: string; maxAge?: number },
): UserGrant {
  return {
    form: {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: flow.device_code,
      code: flow.device_code,
      scope: targetOf(flow.scope),
      claims: claimsFor(context, options.claimsChallenge),
    },
    apiId: apiIds.deviceFlow,
    refreshReason: refreshReasons.notSilent,
    scopes: flow.scope,
    grantType: 'urn:ietf:params:oauth:grant-type:device_code',
    ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
  }
}

/** The longest device code lifetime taken: a day (Entra gives 15 minutes). */
const maxDeviceCodeLifetime = 86_400

/**
 * The device authorization answer's fields, each checked: codes are non-empty strings, the
 * verification URLs are https (or loopback http) since they are shown as where to sign in.
 */
function deviceFlowOf(
  body: Record<string, unknown>,
  context: { now: number; scope: string[] },
): DeviceFlow {
  const deviceCode = nonEmptyString(body, 'device_code')
  const userCode = nonEmptyString(body, 'user_code')
  // Entra's v1 endpoint says verification_url.
  const uriField = body['verification_uri'] === undefined ? 'verification_url' : 'verification_uri'
  const verification = safeUrl(
    nonEmptyString(body, uriField),
    `the device authorization answer's ${uriField}`,
  )
  const complete = body['verification_uri_complete']
  if (complete !== undefined) {
    safeUrl(
      typeof complete === 'string' ? complete : '',
      "the device authorization answer's verification_uri_complete",
    )
  }
  const expiresIn = expiresInOf(body)
  const message = body['message']
  if (message !== undefined && typeof message !== 'string') {
    throw new RuntimeFailure(
      'invalid_response',
      "the device authorization answer's message is not a string",
    )
  }
  return {
    ...body,
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: verification,
    message: message ?? `To sign in, open ${verification} and enter the code ${userCode}.`,
    interval: pollInterval(body['interval']),
    expires_in: expiresIn,
    expires_at: context.now + expiresIn,
    scope: context.scope,
  }
}

function deviceAnswerOf(status: number, text: string): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(text)
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      return body as Record<string, unknown>
    }
  } catch {
    // reported below
  }
  throw new RuntimeFailure(
    'invalid_response',
    `the device authorization endpoint answered ${status} with a body that is not a JSON object`,
  )
}

function nonEmptyString(body: Record<string, unknown>, name: string): string {
  const value = body[name]
  if (typeof value !== 'string' || value === '') {
    throw new RuntimeFailure('invalid_response', `the device authorization answer has no ${name}`)
  }
  return value
}

/** Seconds the device code lives: 1800 when not said (as MSAL), else a positive number up to a day. */
function expiresInOf(body: Record<string, unknown>): number {
  const value = body['expires_in']
  if (value === undefined || value === null) {
    return 1800
  }
  const seconds = numeric(value)
  if (seconds === undefined || seconds <= 0 || seconds > maxDeviceCodeLifetime) {
    throw new RuntimeFailure(
      'invalid_response',
      `the device authorization answer's expires_in ${JSON.stringify(value).slice(0, 100)} is not a number of seconds between 0 and ${maxDeviceCodeLifetime}`,
    )
  }
  return seconds
}

/** The shortest wait between polls, whatever the provider says: no storm of token requests. */
export const minPollInterval = 1

/** The longest wait between polls: a longer one would leave a sign-in unnoticed for minutes. */
export const maxPollInterval = 60

/**
 * Seconds between polls: never under one, whatever the provider says (RFC 8628 asks for 5 by
 * default), so a hostile or broken answer cannot make us hammer the token endpoint, nor over a
 * minute, so it cannot make us sleep through the sign-in; nonsense is 5.
 */
export function pollInterval(value: unknown): number {
  const seconds = numeric(value)
  if (seconds === undefined || seconds <= 0) {
    return 5
  }
  return Math.min(Math.max(seconds, minPollInterval), maxPollInterval)
}

/** A finite number, also from a numeric string (Entra's v1 endpoints send strings). */
function numeric(value: unknown): number | undefined {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : NaN
  return Number.isFinite(number) ? number : undefined
}
