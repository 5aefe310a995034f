import { isLoopbackHost } from '../http/endpoint-url.js'
import { UsageError } from '../kernel/errors.js'

export type AuthorityKind = 'aad' | 'b2c' | 'ciam' | 'adfs' | 'oidc'

/** A parsed, validated authority. Plain data: frozen, no network behind it. */
export interface Authority {
  /** The authority as configured, used to build discovery URLs (case, port and slashes kept). */
  readonly url: string
  /** Lower-cased host name without port: the cache's `environment`. */
  readonly instance: string
  /** Host and port, for building URLs. */
  readonly host: string
  readonly scheme: 'https:' | 'http:'
  /** The first path segment as configured; discovery may replace it with the tenant id. */
  readonly tenant: string
  readonly kind: AuthorityKind
}

export const clouds = {
  public: 'login.microsoftonline.com',
  usgov: 'login.microsoftonline.us',
  china: 'login.chinacloudapi.cn',
} as const

/** Hosts MSAL trusts without asking instance discovery. */
const wellKnownHosts = new Set([
  'login.microsoftonline.com',
  'login.chinacloudapi.cn',
  'login-us.microsoftonline.com',
  'login.microsoftonline.us',
])

const b2cSuffixes = ['b2clogin.com', 'b2clogin.cn', 'b2clogin.us', 'b2clogin.de', 'ciamlogin.com']

/** Hosts through which Entra's world-wide cloud serves regional endpoints. */
const regionalCapableHosts = new Set([
  'login.microsoftonline.com',
  'login.microsoft.com',
  'login.windows.net',
  'sts.windows.net',
])

export const defaultAuthority = `https://${clouds.public}/common`

/** `https://<instance>/<tenant>`, as MSAL's AuthorityBuilder writes it. */
export function authorityBuilder(instance: string, tenant: string): string {
  const host = instance.replace(/\/+$/, '')
  const base = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `https://${host}`
  return `${base}/${tenant.replace(/^\/+|\/+$/g, '')}`
}

/** MSAL's AuthorityBuilder, for `new ConfidentialClientApplication({ authority: new AuthorityBuilder(clouds.usgov, tenant) })`. */
export class AuthorityBuilder {
  readonly instance: string
  readonly tenant: string

  constructor(instance: string, tenant: string) {
    this.instance = instance
    this.tenant = tenant
  }

  toString(): string {
    return authorityBuilder(this.instance, this.tenant)
  }
}

/** `public`, `usgov`, `china`, a host name or an https URL, as `--cloud` and AZURE_AUTHORITY_HOST take it. */
export function cloudHost(cloud: string): string {
  const named = (clouds as Record<string, string>)[cloud.toLowerCase()]
  return named ?? cloud
}

/** Parses and checks an authority URL. `oidc` marks an `--oidc-authority`, which may have no path. */
export function parseAuthority(text: string, options: { oidc?: boolean } = {}): Authority {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError('invalid_authority', `the authority ${quote(text)} is not a URL`)
  }
  const scheme = url.protocol
  if (scheme !== 'https:' && !(scheme === 'http:' && isLoopbackHost(url.hostname))) {
    throw new UsageError(
      'invalid_authority',
      `the authority ${quote(text)} must use https (http is allowed on loopback hosts only)`,
    )
  }
  if (url.username || url.password) {
    throw new UsageError(
      'invalid_authority',
      `the authority ${quote(text)} must not hold credentials`,
    )
  }
  const instance = url.hostname.toLowerCase()
  const segments = url.pathname.split('/').filter((s) => s !== '')
  const ciam = instance.endsWith('.ciamlogin.com')
  let tenant = segments[0]
  if (tenant === undefined && ciam) {
    tenant = `${instance.split('.')[0] ?? ''}.onmicrosoft.com`
  }
  if (tenant === undefined && !options.oidc) {
    throw new UsageError(
      'invalid_authority',
      `the authority ${quote(text)} has no tenant; use https://<host>/<tenant>`,
    )
  }
  return Object.freeze({
    url: text,
    instance,
    host: url.host.toLowerCase(),
    scheme,
    tenant: tenant ?? '',
    kind: options.oidc ? 'oidc' : kindOf(instance, segments),
  })
}

function kindOf(instance: string, segments: readonly string[]): AuthorityKind {
  if (instance.endsWith('.ciamlogin.com')) {
    return 'ciam'
  }
  if (b2cSuffixes.some((suffix) => instance.endsWith(`.${suffix}`))) {
    return 'b2c'
  }
  if (segments.length === 2 && segments[1]?.toLowerCase().startsWith('b2c_')) {
    return 'b2c'
  }
  if (segments[0]?.toLowerCase() === 'adfs') {
    return 'adfs'
  }
  return 'aad'
}

/** The OpenID configuration URL of an authority, built from the URL as given (as MSAL does). */
export function openIdConfigurationUrl(authority: Authority): string {
  const url = new URL(authority.url)
  const base = `${url.protocol}//${url.host}${url.pathname}`
  switch (authority.kind) {
    case 'oidc':
      return `${authority.url}/.well-known/openid-configuration`
    case 'adfs':
      return `${base}/.well-known/openid-configuration`
    case 'ciam':
      if (url.pathname === '/' || url.pathname === '') {
        return `${url.protocol}//${url.host}/${authority.tenant}/v2.0/.well-known/openid-configuration`
      }
      return `${base}/v2.0/.well-known/openid-configuration`
    default:
      return `${base}/v2.0/.well-known/openid-configuration`
  }
}

/** Whether instance discovery may validate this authority: Entra hosts it does not already know. */
export function needsInstanceDiscovery(authority: Authority): boolean {
  return authority.kind === 'aad' && !wellKnownHosts.has(authority.instance)
}

/**
 * Whether the authority has regional endpoints: Entra ID's only (B2C, CIAM, ADFS and other OpenID
 * providers have none), and only on a host name a region can prefix, not an IP address.
 */
export function takesRegion(authority: Authority): boolean {
  return authority.kind === 'aad' && !isIpHost(authority.instance)
}

/**
 * An IP address as a URL's hostname writes it: IPv6 in brackets, IPv4 as four decimal numbers (the
 * URL parser rewrites every other IPv4 form so, and refuses a name whose last label is a number).
 * node:net's isIP would do too, but loading node:net costs the cached `token` more than its answer.
 */
function isIpHost(hostname: string): boolean {
  return hostname.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(hostname)
}

/** Why an authority that does not take a region cannot, for the error refusing one. */
export function noRegionReason(authority: Authority): string {
  const which =
    authority.kind === 'aad'
      ? `an authority at an IP address (${authority.host})`
      : `a ${authority.kind === 'oidc' ? 'generic OpenID' : authority.kind.toUpperCase()} authority (${authority.host})`
  return `regional endpoints exist only for Entra ID authorities on a host name, not for ${which}`
}

/** The host that serves a region's endpoints for this authority. */
export function regionalHost(authority: Authority, region: string): string {
  if (regionalCapableHosts.has(authority.instance)) {
    return `${region}.login.microsoft.com`
  }
  return `${region}.${authority.host}`
}

/** Entra's multi-tenant segments, for which a client-credential token is refused. */
export function isMultiTenant(tenant: string): boolean {
  return ['common', 'organizations', 'consumers'].includes(tenant.toLowerCase())
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)
}
