/** The options of a public client's person-present flows. */

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

export interface DeviceFlowOptions {
  claimsChallenge?: string
  /** Seconds; the ID token's auth_time must be this recent. */
  maxAge?: number
  signal?: AbortSignal
  /** How long to keep polling, in milliseconds; the device code's expiry ends it sooner. */
  timeoutMs?: number
  /** Called after each pending poll, e.g. to move a spinner. */
  onPending?: (state: { interval: number; expiresAt: number }) => void
}
