import { randomUUID } from 'node:crypto'
import { checkErrorBody, OAuthServerError, RuntimeFailure } from '../kernel/errors.js'
import type { HttpClient } from '../http/types.js'
import { retryAfterSeconds } from '../http/retry-after.js'
import { checkTokenResponse, type TokenResponse } from '../protocol/token-response.js'
import { clientSku, version } from '../kernel/version.js'

/** MSAL's telemetry API ids. */
export const apiIds = {
  clientCredentials: 730,
  silent: 84,
  byRefreshToken: 85,
  usernamePassword: 301,
  onBehalfOf: 523,
  deviceFlow: 622,
  authCode: 832,
  interactive: 169,
} as const

/** Why a token was requested instead of read from the cache (MSAL's refresh_reason). */
export const refreshReasons = { notSilent: 0, forced: 1, absent: 2, expired: 3, aging: 4 } as const

export interface TokenRequestContext {
  apiId: number
  refreshReason: number
  appName?: string
  appVersion?: string
  correlationId?: string
  extraHeaders?: Record<string, string>
}

/** The client and telemetry headers MSAL sends with every token request. */
export function tokenRequestHeaders(context: TokenRequestContext): Record<string, string> {
  return {
    accept: 'application/json',
    'x-client-sku': clientSku,
    'x-client-ver': version,
    'x-client-os': process.platform,
    'x-ms-lib-capability': 'retry-after, h429',
    'client-request-id': context.correlationId ?? randomUUID(),
    'x-client-current-telemetry': `4|${context.apiId},${context.refreshReason}|`,
    'x-client-last-telemetry': '4|0|||',
    ...(context.appName ? { 'x-app-name': context.appName } : {}),
    ...(context.appVersion ? { 'x-app-ver': context.appVersion } : {}),
    ...context.extraHeaders,
  }
}

/** Drops empty values, as MSAL does before anything reaches the wire. */
export function compactForm(form: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(form)) {
    if (value !== undefined && value !== '') {
      out[name] = value
    }
  }
  return out
}

/**
 * POSTs a grant and returns the token response, checked and normalised (see `checkTokenResponse`),
 * or throws the provider's error with its well-formed fields. `now` turns an `expires_on` into a lifetime.
 */
export async function requestToken(
  http: HttpClient,
  url: string,
  form: Record<string, string>,
  context: TokenRequestContext & { now: number },
): Promise<TokenResponse> {
  const response = await http.request({
    method: 'POST',
    url,
    form,
    headers: tokenRequestHeaders(context),
  })
  const host = new URL(url).host
  let body: unknown
  try {
    body = JSON.parse(response.body)
  } catch {
    body = undefined
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    if (response.status === 429 || response.status === 503) {
      const wait = retryAfterSeconds(response.headers['retry-after'])
      throw new RuntimeFailure(
        'throttled',
        `${host} is throttling requests (${response.status})${wait === undefined ? '' : `; retry after ${wait} s`}`,
      )
    }
    if (response.status >= 500) {
      throw new RuntimeFailure('server_error', `${host} answered ${response.status}`)
    }
    throw new RuntimeFailure(
      'invalid_response',
      `${host} answered ${response.status} with a body that is not a JSON object`,
    )
  }
  const fields = body as Record<string, unknown>
  const error = checkErrorBody(fields)
  if (error !== undefined) {
    throw new OAuthServerError(response.status, error)
  }
  if (response.status >= 400) {
    throw new RuntimeFailure('server_error', `${host} answered ${response.status}`)
  }
  // The type asked for is the one in the form: `pop` (or another scheme), else Bearer.
  return checkTokenResponse(fields, {
    from: host,
    asked: form['token_type'],
    now: context.now,
  })
}
