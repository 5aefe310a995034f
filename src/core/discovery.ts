import {
  type Authority,
  isLoopbackHost,
  needsInstanceDiscovery,
  openIdConfigurationUrl,
} from './authority.js'
import { RuntimeFailure } from './errors.js'
import type { HttpClient, HttpResponse } from './http-types.js'

/** The endpoints an authority serves, from its OpenID configuration. */
export interface Endpoints {
  readonly issuer?: string
  readonly authorizationEndpoint?: string
  readonly tokenEndpoint: string
  readonly deviceAuthorizationEndpoint?: string
  readonly endSessionEndpoint?: string
  readonly jwksUri?: string
  /** `authorization_response_iss_parameter_supported` (RFC 9207). */
  readonly issInAuthorizationResponse?: boolean
  /** `token_endpoint_auth_methods_supported`, when the provider says. */
  readonly tokenEndpointAuthMethods?: readonly string[]
  /** The cache's realm: the first path segment of the token endpoint (a domain tenant becomes its id). */
  readonly realm: string
}

export interface DiscoveryOptions {
  /** false skips instance discovery; a string is a custom instance discovery endpoint. */
  instanceDiscovery: boolean | string
  validateAuthority: boolean
}

export const worldwideInstanceDiscovery =
  'https://login.microsoftonline.com/common/discovery/instance'

/**
 * Instance discovery (for Entra hosts MSAL does not already know) and then tenant discovery.
 * Both are plain GETs, so a warm HTTP cache answers them with no request.
 */
export async function discoverEndpoints(
  http: HttpClient,
  authority: Authority,
  options: DiscoveryOptions,
): Promise<Endpoints> {
  const configurationUrl = runsInstanceDiscovery(authority, options)
    ? await tenantDiscoveryEndpoint(http, authority, options)
    : openIdConfigurationUrl(authority)
  const response = await http.request({ method: 'GET', url: configurationUrl })
  return endpointsFrom(response, configurationUrl, authority)
}

/**
 * A loopback authority is a local identity provider: the world-wide endpoint cannot vouch for it, so
 * it is validated only when a custom instance discovery endpoint is configured.
 */
function runsInstanceDiscovery(authority: Authority, options: DiscoveryOptions): boolean {
  if (
    options.instanceDiscovery === false ||
    !options.validateAuthority ||
    !needsInstanceDiscovery(authority)
  ) {
    return false
  }
  return typeof options.instanceDiscovery === 'string' || !isLoopbackHost(authority.instance)
}

async function tenantDiscoveryEndpoint(
  http: HttpClient,
  authority: Authority,
  options: DiscoveryOptions,
): Promise<string> {
  const base =
    typeof options.instanceDiscovery === 'string'
      ? options.instanceDiscovery
      : worldwideInstanceDiscovery
  const url = new URL(base)
  const authorityUrl = new URL(authority.url)
  // MSAL's validation request: api-version 1.0 after the endpoint, and no headers (the 1.1 + Accept
  // request is its separate alias lookup).
  url.searchParams.set(
    'authorization_endpoint',
    `https://${authority.host}${authorityUrl.pathname.replace(/\/+$/, '')}/oauth2/v2.0/authorize`,
  )
  url.searchParams.set('api-version', '1.0')
  const response = await http.request({ method: 'GET', url: url.toString() })
  const body = parseJson(response, 'instance discovery')
  if (body['error'] === 'invalid_instance') {
    throw new RuntimeFailure(
      'invalid_instance',
      `${authority.host} is not a known Entra ID authority (instance discovery said invalid_instance); pass --no-validate-authority to trust it`,
    )
  }
  const endpoint = body['tenant_discovery_endpoint']
  if (typeof endpoint !== 'string') {
    throw new RuntimeFailure(
      'invalid_response',
      `instance discovery for ${authority.host} answered ${response.status} without a tenant discovery endpoint`,
    )
  }
  return endpoint
}

function endpointsFrom(response: HttpResponse, url: string, authority: Authority): Endpoints {
  if (response.status >= 400 && response.status < 500) {
    throw new RuntimeFailure(
      'authority_not_found',
      `the authority ${authority.url} was not found (${url} answered ${response.status}); check the tenant, or use https://<host>/<tenant>`,
    )
  }
  const doc = parseJson(response, 'the OpenID configuration')
  const tokenEndpoint = doc['token_endpoint']
  if (typeof tokenEndpoint !== 'string') {
    throw new RuntimeFailure(
      'invalid_response',
      `the OpenID configuration at ${url} has no token_endpoint`,
    )
  }
  return Object.freeze({
    ...optional('issuer', doc['issuer']),
    ...optional('authorizationEndpoint', doc['authorization_endpoint']),
    ...optional('deviceAuthorizationEndpoint', doc['device_authorization_endpoint']),
    ...optional('endSessionEndpoint', doc['end_session_endpoint']),
    ...optional('jwksUri', doc['jwks_uri']),
    ...authMethods(doc['token_endpoint_auth_methods_supported']),
    ...(doc['authorization_response_iss_parameter_supported'] === true
      ? { issInAuthorizationResponse: true }
      : {}),
    tokenEndpoint,
    realm: realmOf(tokenEndpoint, authority),
  })
}

function realmOf(tokenEndpoint: string, authority: Authority): string {
  try {
    return new URL(tokenEndpoint).pathname.split('/').find((s) => s !== '') ?? authority.tenant
  } catch {
    return authority.tenant
  }
}

function authMethods(value: unknown): { tokenEndpointAuthMethods?: string[] } {
  return Array.isArray(value)
    ? { tokenEndpointAuthMethods: value.filter((m): m is string => typeof m === 'string') }
    : {}
}

function optional<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  return typeof value === 'string' ? ({ [key]: value } as Record<K, string>) : {}
}

function parseJson(response: HttpResponse, what: string): Record<string, unknown> {
  if (response.status >= 500) {
    throw new RuntimeFailure(
      'server_error',
      `${what} failed: the server answered ${response.status}`,
    )
  }
  try {
    const parsed: unknown = JSON.parse(response.body)
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>
    }
  } catch {
    // reported below
  }
  throw new RuntimeFailure(
    'invalid_response',
    `${what} answered ${response.status} with a body that is not a JSON object`,
  )
}
