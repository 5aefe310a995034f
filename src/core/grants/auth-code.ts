import {
  type AuthCodeFlow,
  authCodeOf,
  authorizationUrl,
  checkAuthState,
} from '../protocol/auth-code-flow.js'
import { safeUrl } from '../http/endpoint-url.js'
import { RuntimeFailure, UsageError } from '../kernel/errors.js'
import { codeChallenge, hashNonce, randomToken } from '../protocol/id-token.js'
import { targetOf } from '../protocol/scopes.js'
import { anchorOf } from '../protocol/token-response.js'
import { claimsFor, type GrantContext, userScopesFor } from './context.js'
import type { UserGrant } from './redeem.js'
import { apiIds, refreshReasons } from './token-request.js'

export interface AuthorizationUrlOptions {
  redirectUri?: string
  state?: string
  /** Sent as given (get_authorization_request_url does not hash it). */
  nonce?: string
  prompt?: string
  loginHint?: string
  domainHint?: string
  responseType?: string
  claimsChallenge?: string
  maxAge?: number
  responseMode?: string
}

export type AuthCodeFlowOptions = Omit<
  AuthorizationUrlOptions,
  'nonce' | 'responseType' | 'responseMode'
> & {
  /** How the code comes back to the redirect URI: a code in the fragment never reaches a server. */
  responseMode?: 'query' | 'form_post'
}

/** A redirect URI must be absolute: the provider compares it with the registered ones verbatim. */
function checkRedirectUri(uri: string | undefined): void {
  if (uri !== undefined && !URL.canParse(uri)) {
    throw new UsageError(
      'invalid_redirect_uri',
      `the redirect URI ${JSON.stringify(uri)} is not an absolute URL`,
    )
  }
}

async function authorizationEndpoint(context: GrantContext): Promise<string> {
  const endpoints = await context.endpoints()
  if (!endpoints.authorizationEndpoint) {
    throw new RuntimeFailure(
      'unsupported',
      `${context.authority.url} has no authorization endpoint`,
    )
  }
  // The sign-in URL is shown and opened: never a `javascript:` or plain-http one.
  return safeUrl(endpoints.authorizationEndpoint, 'the authorization endpoint')
}

export async function authorizationRequestUrl(
  context: GrantContext,
  scopes: readonly string[],
  options: AuthorizationUrlOptions,
): Promise<string> {
  checkRedirectUri(options.redirectUri)
  const endpoint = await authorizationEndpoint(context)
  return authorizationUrl(endpoint, {
    client_id: context.clientId,
    response_type: options.responseType ?? 'code',
    redirect_uri: options.redirectUri,
    scope: targetOf(userScopesFor(context, scopes)),
    state: options.state,
    nonce: options.nonce,
    login_hint: options.loginHint,
    prompt: options.prompt,
    domain_hint: options.domainHint,
    claims: claimsFor(context, options.claimsChallenge),
    max_age: options.maxAge === undefined ? undefined : String(options.maxAge),
    response_mode: options.responseMode,
  })
}

export async function newAuthCodeFlow(
  context: GrantContext,
  scopes: readonly string[],
  options: AuthCodeFlowOptions,
): Promise<AuthCodeFlow> {
  checkRedirectUri(options.redirectUri)
  const endpoint = await authorizationEndpoint(context)
  const decorated = userScopesFor(context, scopes)
  const state = options.state ?? randomToken(16)
  const nonce = randomToken(16)
  const verifier = randomToken(32)
  const authUri = authorizationUrl(endpoint, {
    client_id: context.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    scope: targetOf(decorated),
    state,
    code_challenge: codeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce: hashNonce(nonce),
    client_info: '1',
    login_hint: options.loginHint,
    domain_hint: options.domainHint,
    prompt: options.prompt,
    claims: claimsFor(context, options.claimsChallenge),
    max_age: options.maxAge === undefined ? undefined : String(options.maxAge),
    response_mode: options.responseMode,
    'X-AnchorMailbox': options.loginHint ? `UPN:${options.loginHint}` : undefined,
  })
  return {
    state,
    ...(options.redirectUri !== undefined ? { redirect_uri: options.redirectUri } : {}),
    scope: [...new Set([...decorated, 'openid'])],
    auth_uri: authUri,
    code_verifier: verifier,
    nonce,
    ...(options.maxAge !== undefined ? { max_age: options.maxAge } : {}),
    claims_challenge: options.claimsChallenge ?? null,
  }
}

/** The grant that redeems the answer to a flow, once its state, error and issuer are checked. */
export async function authCodeFlowGrant(
  context: GrantContext,
  flow: AuthCodeFlow,
  response: Record<string, string>,
  scopes: readonly string[] | undefined,
  options: { apiId?: number },
): Promise<UserGrant> {
  checkAuthState(flow, response, scopes)
  const endpoints = await context.endpoints()
  const code = authCodeOf(response, {
    ...(endpoints.issuer !== undefined ? { issuer: endpoints.issuer } : {}),
    required: endpoints.issInAuthorizationResponse === true,
  })
  const decorated = scopes ? userScopesFor(context, scopes) : flow.scope
  const clientInfo = response['client_info']
  const anchor = clientInfo ? anchorOf(clientInfo) : undefined
  return {
    form: {
      grant_type: 'authorization_code',
      code,
      redirect_uri: flow.redirect_uri,
      code_verifier: flow.code_verifier,
      scope: targetOf(decorated),
      claims: claimsFor(context, flow.claims_challenge ?? undefined),
    },
    apiId: options.apiId ?? apiIds.authCode,
    refreshReason: refreshReasons.notSilent,
    scopes: decorated,
    grantType: 'authorization_code',
    nonceClaim: hashNonce(flow.nonce),
    ...(flow.max_age !== undefined ? { maxAge: flow.max_age } : {}),
    ...(anchor ? { anchor } : {}),
  }
}

export function authorizationCodeGrant(
  context: GrantContext,
  code: string,
  scopes: readonly string[],
  options: { redirectUri?: string; nonce?: string; claimsChallenge?: string },
): UserGrant {
  checkRedirectUri(options.redirectUri)
  if (typeof code !== 'string' || code.trim() === '') {
    throw new UsageError('missing_code', 'the authorization code is empty')
  }
  const decorated = userScopesFor(context, scopes)
  return {
    form: {
      grant_type: 'authorization_code',
      code,
      redirect_uri: options.redirectUri,
      scope: targetOf(decorated),
      claims: claimsFor(context, options.claimsChallenge),
    },
    apiId: apiIds.authCode,
    refreshReason: refreshReasons.notSilent,
    scopes: decorated,
    grantType: 'authorization_code',
    ...(options.nonce !== undefined ? { nonceClaim: options.nonce } : {}),
  }
}
