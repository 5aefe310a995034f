import { setTimeout as sleep } from 'node:timers/promises'
import {
  type DeviceFlow,
  deviceCodeGrant,
  maxPollInterval,
  minPollInterval,
  pollInterval,
  requestDeviceFlow,
} from '../grants/device-code.js'
import { apiIds } from '../grants/token-request.js'
import { safeUrl } from '../http/endpoint-url.js'
import { CancelledError, OAuthServerError, RuntimeFailure, UsageError } from '../kernel/errors.js'
import { startLoopback } from '../loopback/listener.js'
import { randomToken } from '../protocol/id-token.js'
import type { AuthenticationResult } from '../protocol/result.js'
import type { ClientApplicationOptions } from '../session/client-options.js'
import { redeemUserGrant } from '../session/redeem.js'
import { checkOptions } from '../session/option-shape.js'
import { ClientApplication } from './application.js'
import { deviceFlowRules, interactiveRules } from './option-tables.js'
import type { DeviceFlowOptions, InteractiveOptions } from './public-options.js'

export type { DeviceFlowOptions, InteractiveOptions } from './public-options.js'

/** A client that cannot keep a secret: a person's CLI, a desktop app. */
export class PublicClientApplication extends ClientApplication {
  constructor(
    options: Omit<ClientApplicationOptions, 'azureRegion'> & {
      clientCredential?: never
      azureRegion?: false
    },
  ) {
    const given = options as { clientCredential?: unknown; azureRegion?: unknown } | undefined
    if (given?.clientCredential !== undefined) {
      throw new UsageError(
        'unexpected_credential',
        'a public client application takes no client credential',
      )
    }
    // MSAL sends only client credentials to a region: on a public client one would be ignored.
    // Its "no region" values (MSAL's None, false, an empty name) say nothing that would be lost.
    const region = given?.azureRegion
    if (region === true || (typeof region === 'string' && region !== '')) {
      throw new UsageError(
        'region_unsupported',
        'azureRegion acts on confidential clients only (their app tokens), not on a public client',
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
    checkOptions('acquireTokenInteractive options', options ?? null, interactiveRules)
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
  initiateDeviceFlow(scopes: readonly string[]): Promise<DeviceFlow> {
    return requestDeviceFlow(this.app, scopes)
  }

  /**
   * Polls until the person signs in: at once, then every `interval` s (slower on `slow_down`) until
   * the device code expires or `timeoutMs` passes, the last wait cut short to poll once more at that
   * moment so the person gets the whole window.
   */
  async acquireTokenByDeviceFlow(
    flow: DeviceFlow,
    options: DeviceFlowOptions = {},
  ): Promise<AuthenticationResult> {
    checkOptions('acquireTokenByDeviceFlow options', options, deviceFlowRules)
    const window = pollingWindow(flow, options.timeoutMs, this.clock())
    const started = performance.now()
    let interval = pollInterval(flow.interval)
    for (let lastPoll = false; ;) {
      if (options.signal?.aborted) {
        throw new CancelledError()
      }
      try {
        return await redeemUserGrant(this.app, deviceCodeGrant(this.app, flow, options))
      } catch (error) {
        const code = error instanceof OAuthServerError ? error.code : undefined
        if (code !== 'authorization_pending' && code !== 'slow_down') {
          throw error
        }
        if (code === 'slow_down') {
          interval = Math.min(interval + 5, maxPollInterval)
        }
      }
      const leftMs = window.ms - (performance.now() - started)
      // Less than the shortest gap left: one more poll would come too soon after this one.
      if (lastPoll || leftMs < minPollInterval * 1000) {
        throw window.ended()
      }
      options.onPending?.({ interval, expiresAt: flow.expires_at })
      lastPoll = leftMs <= interval * 1000
      try {
        await sleep(
          Math.min(interval * 1000, leftMs),
          undefined,
          options.signal ? { signal: options.signal } : {},
        )
      } catch {
        throw new CancelledError()
      }
    }
  }
}

/**
 * How long polling may go on, and the error naming what ended it: the caller's timeout when it
 * comes first, else the device code's expiry.
 */
function pollingWindow(
  flow: DeviceFlow,
  timeoutMs: number | undefined,
  now: number,
): { ms: number; ended: () => RuntimeFailure } {
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw new UsageError('invalid_timeout', 'the sign-in timeout must be a positive number of ms')
  }
  const expiryMs = (flow.expires_at - now) * 1000
  if (timeoutMs !== undefined && timeoutMs < expiryMs) {
    return {
      ms: timeoutMs,
      ended: () =>
        new RuntimeFailure('timeout', `the sign-in was not completed within ${timeoutMs / 1000} s`),
    }
  }
  return {
    ms: expiryMs,
    ended: () =>
      new RuntimeFailure(
        'expired_token',
        `the device code expired (it lived ${flow.expires_in} s) before the sign-in was completed`,
      ),
  }
}
