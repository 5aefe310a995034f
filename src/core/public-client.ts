import { setTimeout as sleep } from 'node:timers/promises'
import {
  ClientApplication,
  type AuthenticationResult,
  type ClientApplicationOptions,
} from './application.js'
import { CancelledError, OAuthServerError, RuntimeFailure, UsageError } from './errors.js'
import { apiIds, refreshReasons, tokenRequestHeaders } from './grants/token-request.js'
import { randomToken } from './id-token.js'
import { startLoopback } from './loopback.js'
import { targetOf } from './scopes.js'

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
      await options.openBrowser(flow.auth_uri)
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
    let body: Record<string, unknown>
    try {
      body = JSON.parse(response.body) as Record<string, unknown>
    } catch {
      throw new RuntimeFailure(
        'invalid_response',
        `the device authorization endpoint answered ${response.status} with a body that is not JSON`,
      )
    }
    if (typeof body['error'] === 'string') {
      throw new OAuthServerError(response.status, { ...body, error: body['error'] })
    }
    if (typeof body['device_code'] !== 'string' || typeof body['user_code'] !== 'string') {
      throw new RuntimeFailure(
        'invalid_response',
        'the device authorization answer has no device code',
      )
    }
    const interval = Number(body['interval'] ?? 5) || 5
    const expiresIn = Number(body['expires_in'] ?? 1800) || 1800
    const uri = body['verification_uri'] ?? body['verification_url']
    const verification = typeof uri === 'string' ? uri : ''
    return {
      ...body,
      device_code: body['device_code'],
      user_code: body['user_code'],
      verification_uri: verification,
      message:
        typeof body['message'] === 'string'
          ? body['message']
          : `To sign in, open ${verification} and enter the code ${body['user_code']}.`,
      interval,
      expires_in: expiresIn,
      expires_at: this.clock() + expiresIn,
      scope: decorated,
    }
  }

  /** Polls until the person signs in: at once, then every `interval` s, slower on `slow_down`. */
  async acquireTokenByDeviceFlow(
    flow: DeviceFlow,
    options: DeviceFlowOptions = {},
  ): Promise<AuthenticationResult> {
    let interval = flow.interval
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
