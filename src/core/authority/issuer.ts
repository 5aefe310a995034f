/**
 * Which `issuer` an OpenID provider's discovery document may name for an `--oidc-authority`, as
 * MSAL Python, msal-js and MSAL.NET decide it since 2025. A document naming another provider is
 * refused before anything is sent, so a hijacked or mistyped discovery URL cannot steer
 * credentials to a stranger. The order of the rules matters: see each step.
 */

/** Microsoft's sign-in hosts, by cloud: an issuer may move between hosts of one cloud only. */
const cloudHosts: Record<string, readonly string[]> = {
  public: [
    'login.microsoftonline.com',
    'login.microsoft.com',
    'login.windows.net',
    'sts.windows.net',
    // Not an authority of its own; makes `<tenant>.ciamlogin.com` authorities part of this cloud.
    'ciamlogin.com',
  ],
  china: ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'],
  germany: ['login.microsoftonline.de'],
  usgov: ['login.microsoftonline.us', 'login.usgovcloudapi.net'],
  usalt: ['login-us.microsoftonline.com'],
  bleu: ['login.sovcloud-identity.fr'],
  delos: ['login.sovcloud-identity.de'],
  govsg: ['login.sovcloud-identity.sg'],
  ppe: ['login.windows-ppe.net', 'sts.windows-ppe.net', 'login.microsoft-ppe.com'],
}

const cloudOfHost = new Map(
  Object.entries(cloudHosts).flatMap(([cloud, hosts]) => hosts.map((h) => [h, cloud] as const)),
)

const ciamSuffix = '.ciamlogin.com'
const b2cSuffixes = ['.b2clogin.com', '.b2clogin.cn', '.b2clogin.us', '.b2clogin.de']

/** One DNS label (RFC 1123): what a region prefix such as `westus2` must look like. */
const dnsLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** The Microsoft cloud of a host, also through a `{region}.` prefix; undefined for any other host. */
export function cloudOf(host: string): string | undefined {
  const lower = host.toLowerCase()
  const direct = cloudOfHost.get(lower)
  if (direct !== undefined) {
    return direct
  }
  const dot = lower.indexOf('.')
  return dot > 0 && dnsLabel.test(lower.slice(0, dot))
    ? cloudOfHost.get(lower.slice(dot + 1))
    : undefined
}

/** Whether `issuer` may speak for the OIDC authority `authority` (both as URLs). */
export function issuerMatchesAuthority(issuer: string, authority: string): boolean {
  // Step 1: the same URL, trailing slashes aside.
  if (issuer.replace(/\/+$/, '') === authority.replace(/\/+$/, '')) {
    return true
  }
  if (!URL.canParse(issuer) || !URL.canParse(authority)) {
    return false
  }
  const iss = new URL(issuer)
  const auth = new URL(authority)
  if (iss.hostname === '') {
    return false
  }
  // Step 2: the same scheme, host and port; the path may differ (Entra's `{tenantid}` issuer).
  if (iss.protocol === auth.protocol && iss.host === auth.host) {
    return true
  }
  // Every other step trusts a host by its name, which only TLS can vouch for.
  if (iss.protocol !== 'https:') {
    return false
  }
  // Step 3, before step 4: a CIAM issuer must be the authority's own tenant, even though every
  // `*.ciamlogin.com` host belongs to the public cloud.
  if (iss.hostname.endsWith(ciamSuffix)) {
    return ciamIssuerMatches(iss, auth)
  }
  // Step 4: a Microsoft host; when the authority is one too, of the same cloud.
  const issuerCloud = cloudOf(iss.hostname)
  if (issuerCloud !== undefined) {
    const authorityCloud = cloudOf(auth.hostname)
    return authorityCloud === undefined || authorityCloud === issuerCloud
  }
  // Step 5: a regional host of the authority's, `{region}.{authority host}`.
  const dot = iss.hostname.indexOf('.')
  if (dot > 0 && dnsLabel.test(iss.hostname.slice(0, dot))) {
    if (iss.hostname.slice(dot + 1) === auth.hostname) {
      return true
    }
  }
  // Step 6: a B2C tenant's host.
  return b2cSuffixes.some((suffix) => iss.hostname.endsWith(suffix))
}

/** `https://<tenant>.ciamlogin.com[/<tenant>[/v2.0]]` where the tenant is the authority's. */
function ciamIssuerMatches(iss: URL, auth: URL): boolean {
  const tenant = iss.hostname.slice(0, -ciamSuffix.length)
  const firstSegment = auth.pathname.split('/').find((s) => s !== '')
  const authorityTenant = (firstSegment ?? auth.hostname.split('.')[0] ?? '').toLowerCase()
  if (tenant === '' || tenant !== authorityTenant) {
    return false
  }
  const path = iss.pathname.replace(/\/+$/, '').toLowerCase()
  return path === '' || path === `/${tenant}` || path === `/${tenant}/v2.0`
}
