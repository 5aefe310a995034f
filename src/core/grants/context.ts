import type { Authority } from '../authority/authority.js'
import type { Endpoints } from '../authority/discovery.js'
import type { ClientAuthentication } from '../credentials/client-auth.js'
import type { PopKey } from '../credentials/pop-key.js'
import type { HttpClient } from '../http/types.js'
import type { Clock } from '../kernel/clock.js'
import type { PopAuthScheme } from '../protocol/pop.js'
import { decorateScopes, mergeClaims, normalizeScopes } from '../protocol/scopes.js'

/** The settings of an application that shape every request it sends. */
export interface GrantSettings {
  validateAuthority?: boolean
  appName?: string
  appVersion?: string
  clientCapabilities?: string[]
  excludeScopes?: string[]
}

/**
 * What a grant needs of its application: who asks, where, and how it proves it. No token cache:
 * a grant builds a request, sends it and checks the answer; keeping the tokens is session/'s work.
 */
export interface GrantContext {
  readonly clientId: string
  readonly authority: Authority
  readonly options: GrantSettings
  readonly clock: Clock
  http(): HttpClient
  /** The authority's endpoints, discovered once per application (and once a day across processes). */
  endpoints(): Promise<Endpoints>
  /** Credentials a confidential client adds to every grant; a public client has none. */
  clientAuthentication(endpoints: Endpoints): Promise<ClientAuthentication>
  /** The key a Proof-of-Possession token is bound to; undefined for a bearer token. */
  popKeyFor(scheme: PopAuthScheme | undefined): Promise<PopKey | undefined>
}

/** The `claims` parameter: the caller's challenge merged with the app's client capabilities. */
export function claimsFor(
  context: GrantContext,
  claimsChallenge: string | undefined,
): string | undefined {
  return mergeClaims(claimsChallenge, context.options.clientCapabilities)
}

/** The decorated scope set of a user flow, as a sorted string for the wire and as a list. */
export function userScopesFor(context: GrantContext, scopes: readonly string[]): string[] {
  const wanted = normalizeScopes(scopes)
  return decorateScopes(wanted, context.options.excludeScopes ?? [])
}

export function appHeadersFor(context: GrantContext): { appName?: string; appVersion?: string } {
  return {
    ...(context.options.appName ? { appName: context.options.appName } : {}),
    ...(context.options.appVersion ? { appVersion: context.options.appVersion } : {}),
  }
}
