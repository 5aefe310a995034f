import { type Authority, needsInstanceDiscovery, openIdConfigurationUrl } from './authority.js'
import { isLoopbackHost, safeUrl } from '../http/endpoint-url.js'
import { quoted } from '../kernel/quoted.js'
import { RuntimeFailure } from '../kernel/errors.js'
import type { HttpClient, HttpResponse } from '../http/types.js'
import { cloudOf, issuerMatchesAuthority } from './issuer.js'

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

const worldwideInstanceDiscovery = 'https://login.microsoftonline.com/common/discovery/instance'

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
  const response = await http.request({
    method: 'GET',
    url: configurationUrl,
    keep: (answer) => passes(() => endpointsFrom(answer, configurationUrl, authority)),
  })
  return endpointsFrom(response, configurationUrl, authority)
}

/** Whether a check passes: a document that fails one is not kept in the HTTP cache. */
function passes(check: () => unknown): boolean {
  try {
    check()
    return true
  } catch {
    return false
  }
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
  const response = await http.request({
    method: 'GET',
    url: url.toString(),
    keep: (answer) => passes(() => tenantDiscoveryEndpointOf(answer, authority)),
  })
  return tenantDiscoveryEndpointOf(response, authority)
}

function tenantDiscoveryEndpointOf(response: HttpResponse, authority: Authority): string {
  const body = parseJson(response, 'instance discovery')
  if (body['error'] === 'invalid_instance') {
    throw new RuntimeFailure(
      'invalid_instance',
      `${authority.host} is not a known Entra ID authority (instance discovery said invalid_instance)`,
      { hint: 'validate_authority' },
    )
  }
  const endpoint = body['tenant_discovery_endpoint']
  if (typeof endpoint !== 'string') {
    throw new RuntimeFailure(
      'invalid_response',
      `instance discovery for ${authority.host} answered ${response.status} without a tenant discovery endpoint`,
    )
  }
  checkInstanceMetadata(body['metadata'], authority)
  return safeUrl(endpoint, `instance discovery for ${authority.host}: tenant_discovery_endpoint`)
}

/** The cloud's host aliases, when sent: an array of objects whose host fields are strings. */
function checkInstanceMetadata(metadata: unknown, authority: Authority): void {
  if (metadata === undefined || metadata === null) {
    return
  }
  const isEntry = (entry: unknown): boolean => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return false
    }
    const {
      preferred_network: network,
      preferred_cache: cache,
      aliases,
    } = entry as Record<string, unknown>
    return (
      (network === undefined || typeof network === 'string') &&
      (cache === undefined || typeof cache === 'string') &&
      (aliases === undefined ||
        (Array.isArray(aliases) && aliases.every((a) => typeof a === 'string')))
    )
  }
  if (!Array.isArray(metadata) || !metadata.every(isEntry)) {
    throw new RuntimeFailure(
      'invalid_response',
      `instance discovery for ${authority.host}: metadata is not a list of host aliases`,
    )
  }
}

function endpointsFrom(response: HttpResponse, url: string, authority: Authority): Endpoints {
  if (response.status >= 400 && response.status < 500) {
    throw new RuntimeFailure(
      'authority_not_found',
      `the authority ${authority.url} was not found (${url} answered ${response.status}); check the tenant, or use https://<host>/<tenant>`,
    )
  }
  const doc = parseJson(response, 'the OpenID configuration')
  const field = new DocumentFields(doc, `the OpenID configuration at ${url}`)
  const issuer = field.string('issuer')
  if (authority.kind === 'oidc') {
    checkIssuer(issuer, authority, url)
  }
  const tokenEndpoint = field.url('token_endpoint')
  if (tokenEndpoint === undefined) {
    throw new RuntimeFailure(
      'invalid_response',
      `the OpenID configuration at ${url} has no token_endpoint`,
    )
  }
  const authMethods = field.strings('token_endpoint_auth_methods_supported')
  const authorizationEndpoint = field.url('authorization_endpoint')
  const deviceAuthorizationEndpoint = field.url('device_authorization_endpoint')
  if (authority.kind === 'oidc') {
    checkSameCloud(authority, url, {
      token_endpoint: tokenEndpoint,
      authorization_endpoint: authorizationEndpoint,
      device_authorization_endpoint: deviceAuthorizationEndpoint,
    })
  }
  return Object.freeze({
    ...present('issuer', issuer),
    ...present('authorizationEndpoint', authorizationEndpoint),
    ...present('deviceAuthorizationEndpoint', deviceAuthorizationEndpoint),
    ...present('endSessionEndpoint', field.url('end_session_endpoint')),
    ...present('jwksUri', field.url('jwks_uri')),
    ...(authMethods ? { tokenEndpointAuthMethods: authMethods } : {}),
    ...(field.boolean('authorization_response_iss_parameter_supported') === true
      ? { issInAuthorizationResponse: true }
      : {}),
    tokenEndpoint,
    realm: realmOf(tokenEndpoint, authority),
  })
}

/**
 * The discovered issuer must be the authority's (see issuer.ts), checked before anything is sent
 * to the endpoints the document names.
 */
function checkIssuer(issuer: string | undefined, authority: Authority, url: string): void {
  if (issuer === undefined) {
    throw new RuntimeFailure(
      'invalid_issuer',
      `the OpenID configuration at ${url} names no issuer, so it cannot be checked against the authority ${authority.url}`,
    )
  }
  if (!issuerMatchesAuthority(issuer, authority.url)) {
    throw new RuntimeFailure(
      'invalid_issuer',
      `the OpenID configuration at ${url} names the issuer ${quoted(issuer)}, which does not match the authority ${quoted(authority.url)}: it may belong to another identity provider`,
    )
  }
}

/**
 * An OIDC authority on a Microsoft host keeps its credentials in that Microsoft cloud, as MSAL
 * Python checks it: an endpoint elsewhere means the document was tampered with on the way.
 */
function checkSameCloud(
  authority: Authority,
  url: string,
  endpoints: Record<string, string | undefined>,
): void {
  const cloud = cloudOf(authority.instance)
  if (cloud === undefined) {
    return
  }
  for (const [name, endpoint] of Object.entries(endpoints)) {
    if (endpoint !== undefined && cloudOf(new URL(endpoint).hostname) !== cloud) {
      throw new RuntimeFailure(
        'invalid_response',
        `the OpenID configuration at ${url} names the ${name} ${quoted(endpoint)}, outside the Microsoft cloud of the authority ${quoted(authority.url)}`,
      )
    }
  }
}

/**
 * Typed reads of a provider's JSON document. An absent (or null) optional field is undefined; a
 * field of the wrong type or shape is an error naming it, never silently dropped.
 */
class DocumentFields {
  readonly #doc: Record<string, unknown>
  readonly #what: string

  constructor(doc: Record<string, unknown>, what: string) {
    this.#doc = doc
    this.#what = what
  }

  string(name: string): string | undefined {
    const value = this.#doc[name]
    if (value === undefined || value === null) {
      return undefined
    }
    if (typeof value !== 'string') {
      throw this.#bad(name, 'is not a string')
    }
    return value
  }

  /** A URL that may receive credentials or be shown as where to sign in (see endpoint-url.ts). */
  url(name: string): string | undefined {
    const value = this.string(name)
    return value === undefined ? undefined : safeUrl(value, `${this.#what}: ${name}`)
  }

  strings(name: string): string[] | undefined {
    const value = this.#doc[name]
    if (value === undefined || value === null) {
      return undefined
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw this.#bad(name, 'is not an array of strings')
    }
    return value
  }

  boolean(name: string): boolean | undefined {
    const value = this.#doc[name]
    if (value === undefined || value === null) {
      return undefined
    }
    if (typeof value !== 'boolean') {
      throw this.#bad(name, 'is not true or false')
    }
    return value
  }

  #bad(name: string, why: string): RuntimeFailure {
    return new RuntimeFailure('invalid_response', `${this.#what}: ${name} ${why}`)
  }
}

function realmOf(tokenEndpoint: string, authority: Authority): string {
  return new URL(tokenEndpoint).pathname.split('/').find((s) => s !== '') ?? authority.tenant
}

function present<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>)
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
