import { setTimeout as sleep } from 'node:timers/promises'
import {
  ClientApplication,
  type AuthenticationResult,
  type ClientApplicationOptions,
} from './application.js'
import { CancelledError, OAuthServerError, RuntimeFailure, UsageError } from '../kernel/errors.js'
import { apiIds, refreshReasons, tokenRequestHeaders } from '../grants/token-request.js'
import { safeUrl } from '../http/endpoint-url.js'
import { randomToken } from '../protocol/id-token.js'
import { startLoopback } from '../loopback/listener.js'
import { targetOf } from '../protocol/scopes.js'

export interface InteractiveOptions {
  prompt?: string
  loginHint?: string
  domainHint?: string
  /** Seconds; the ID token's auth_time must be this recent. */
  maxAge?: number
  claimsChallenge?: string
  responseMode?: 'query' | 'form_post'
  /** A fixed loopback port for the redirect; default a free one. */
  port?: number
  /** How long to wait for the person, in milliseconds. Default 300 000. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Shows the sign-in page: opens a browser, or prints the URL. */
  openBrowser: (url: string) => Promise<void>
  /** Scopes of other resources to consent to now; the token is for `scopes` only. */
  extraScopesToConsent?: readonly string[]
}

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

export interface DeviceFlowOptions {
  claimsChallenge?: string
  /** Seconds; the ID token's auth_time must be this recent. */
  maxAge?: number
  signal?: AbortSignal
  /** Called after each pending poll, e.g. to move a spinner. */
  onPending?: (state: { interval: number; expiresAt: number }) => void
}

/** A client that cannot keep a secret: a person's CLI, a desktop app. */
export class PublicClientApplication extends ClientApplication {
  constructor(options: ClientApplicationOptions & { clientCredential?: never }) {
    if ((options as { clientCredential?: unknown }).clientCredential !== undefined) {
      throw new UsageError(
        'unexpected_credential',
        'a public client application takes no client credential',
      )
    }
    super(options)
  }

  /**
   * Authorization code with PKCE through a loopback listener on 127.0.0.1: the person signs in in
   * a browser, the redirect comes back to us, state, nonce and max_age are checked, the code redeemed.
   */
  async acquireTokenInteractive(
    scopes: readonly string[],
    options: InteractiveOptions,
  ): Promise<AuthenticationResult> {
    const state = randomToken(16)
    const listener = await startLoopback({
      expectedState: state,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
    try {
      const flow = await this.initiateAuthCodeFlow(
        [...scopes, ...(options.extraScopesToConsent ?? [])],
        {
          redirectUri: listener.redirectUri,
          state,
          ...(options.prompt !== undefined ? { prompt: options.prompt } : {}),
          ...(options.loginHint !== undefined ? { loginHint: options.loginHint } : {}),
          ...(options.domainHint !== undefined ? { domainHint: options.domainHint } : {}),
          ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
          ...(options.claimsChallenge !== undefined
            ? { claimsChallenge: options.claimsChallenge }
            : {}),
          ...(options.responseMode !== undefined ? { responseMode: options.responseMode } : {}),
        },
      )
      await options.openBrowser(safeUrl(flow.auth_uri, 'the sign-in URL'))
      const response = await listener.response
      // The token is for `scopes` only, whatever else was consented to on the way.
      return await this.acquireTokenByAuthCodeFlow(flow, response, scopes, {
        apiId: apiIds.interactive,
      })
    } finally {
      await listener.close()
    }
  }

  /** Starts the device code flow: the message tells the person where to go and what to type. */
  async initiateDeviceFlow(scopes: readonly string[]): Promise<DeviceFlow> {
    const decorated = this.userScopes(scopes)
    const endpoints = await this.endpoints()
    if (!endpoints.deviceAuthorizationEndpoint) {
      throw new RuntimeFailure(
        'unsupported',
        `${this.authority.url} does not offer the device code flow`,
      )
    }
    const headers = tokenRequestHeaders({
      apiId: apiIds.deviceFlow,
      refreshReason: refreshReasons.notSilent,
      ...this.appHeaders(),
    })
    const response = await this.http().request({
      method: 'POST',
      url: endpoints.deviceAuthorizationEndpoint,
      form: { client_id: this.clientId, scope: targetOf(decorated) },
      headers,
    })
    const body = deviceAnswerOf(response.status, response.body)
    if (typeof body['error'] === 'string') {
      throw new OAuthServerError(response.status, { ...body, error: body['error'] })
    }
    return deviceFlowOf(body, { now: this.clock(), scope: decorated })
  }

  /** Polls until the person signs in: at once, then every `interval` s, slower on `slow_down`. */
  async acquireTokenByDeviceFlow(
    flow: DeviceFlow,
    options: DeviceFlowOptions = {},
  ): Promise<AuthenticationResult> {
    let interval = pollInterval(flow.interval)
    for (;;) {
      if (options.signal?.aborted) {
        throw new CancelledError()
      }
      try {
        return await this.redeemUserGrant({
          form: {
            grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
            device_code: flow.device_code,
            code: flow.device_code,
            scope: targetOf(flow.scope),
            claims: this.claims(options.claimsChallenge),
          },
          apiId: apiIds.deviceFlow,
          refreshReason: refreshReasons.notSilent,
          scopes: flow.scope,
          grantType: 'urn:ietf:params:oauth:grant-type:device_code',
          ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
        })
      } catch (error) {
        const code = error instanceof OAuthServerError ? error.code : undefined
        if (code !== 'authorization_pending' && code !== 'slow_down') {
          throw error
        }
        if (code === 'slow_down') {
          interval += 5
        }
      }
      if (this.clock() + interval > flow.expires_at) {
        throw new RuntimeFailure(
          'expired_token',
          'the device code expired before the sign-in was completed',
        )
      }
      options.onPending?.({ interval, expiresAt: flow.expires_at })
      try {
        await sleep(interval * 1000, undefined, options.signal ? { signal: options.signal } : {})
      } catch {
        throw new CancelledError()
      }
    }
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

/**
 * Seconds between polls: never under one, whatever the provider says (RFC 8628 asks for 5 by
 * default), so a hostile or broken answer cannot make us hammer the token endpoint; nonsense is 5.
 */
function pollInterval(value: unknown): number {
  const seconds = numeric(value)
  if (seconds === undefined || seconds <= 0) {
    return 5
  }
  return Math.min(Math.max(seconds, 1), maxDeviceCodeLifetime)
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
