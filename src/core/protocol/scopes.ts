import { UsageError } from '../kernel/errors.js'

/** Scopes MSAL adds to every user flow and forbids callers to pass. */
const reservedScopes = ['openid', 'profile', 'offline_access'] as const

const graphResources = [
  'https://graph.microsoft.com',
  'https://graph.microsoft.us',
  'https://dod-graph.microsoft.us',
  'https://microsoftgraph.chinacloudapi.cn',
  '00000003-0000-0000-c000-000000000000',
]

/** Splits, trims and de-duplicates scopes given as a list or as space-separated strings. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  // The library's callers may be untyped JavaScript: refuse here, not with a TypeError below.
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) {
    throw new UsageError('invalid_scope', 'scopes must be a list of strings')
  }
  const seen = new Set<string>()
  for (const scope of scopes.flatMap((s) => s.split(/\s+/))) {
    if (scope !== '') {
      seen.add(scope)
    }
  }
  return [...seen]
}

/** The caller's scopes, split and de-duplicated; an empty list is a usage error. */
export function requiredScopes(scopes: readonly string[]): string[] {
  const wanted = normalizeScopes(scopes)
  if (wanted.length === 0) {
    throw new UsageError('missing_scope', 'at least one scope is required')
  }
  return wanted
}

/** `--resource <uri>` means the `.default` scope of that resource; one given as that scope stays it. */
export function resourceToScope(resource: string): string {
  const bare = resource.replace(/\/+$/, '')
  return /\/\.default$/i.test(bare) ? bare : `${bare}/.default`
}

/**
 * The reserved scopes among these: a user flow adds them itself and refuses them given. In any
 * case, as the cache lookup ignores case: `OpenID` would otherwise be answered by a token for
 * `openid` and whatever else it was issued for, and be sent beside the real one on a refresh.
 */
export function reservedAmong(scopes: readonly string[]): string[] {
  return scopes.filter((s) => (reservedScopes as readonly string[]).includes(s.toLowerCase()))
}

/** A user flow adds the reserved scopes itself: given by the caller, they are a usage error. */
export function refuseReservedScopes(scopes: readonly string[]): void {
  const reserved = reservedAmong(scopes)
  if (reserved.length > 0) {
    throw new UsageError(
      'reserved_scope',
      `${reserved.join(', ')} is added by msal-ts itself; leave it out of the scopes`,
      { hint: 'reserved_scope' },
    )
  }
}

/** The user-flow scope set: the caller's scopes plus the reserved ones, minus the excluded ones. */
export function decorateScopes(
  scopes: readonly string[],
  excludeScopes: readonly string[] = [],
): string[] {
  refuseReservedScopes(scopes)
  if (excludeScopes.includes('openid')) {
    throw new UsageError('reserved_scope', 'openid cannot be excluded')
  }
  const decorated = new Set([...scopes, ...reservedScopes])
  for (const excluded of excludeScopes) {
    decorated.delete(excluded)
  }
  return [...decorated]
}

/** The cache's target format: space-joined, sorted by code point, as MSAL writes it. */
export function targetOf(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(' ')
}

/**
 * Whether a cached target holds every requested scope. Unlike MSAL Python this ignores case, and it
 * finds a Graph scope requested with its resource prefix when Entra echoed it bare (`User.Read`).
 */
export function targetCovers(target: string, requested: readonly string[]): boolean {
  const cached = new Set(target.split(/\s+/).map((s) => s.toLowerCase()))
  return requested.every((scope) => {
    const wanted = scope.toLowerCase()
    return (
      cached.has(wanted) ||
      (bareGraphScope(wanted) !== undefined && cached.has(bareGraphScope(wanted) ?? ''))
    )
  })
}

function bareGraphScope(scope: string): string | undefined {
  const resource = graphResources.find((r) => scope.startsWith(`${r}/`))
  const bare = resource === undefined ? undefined : scope.slice(resource.length + 1)
  return bare === '.default' ? undefined : bare
}

/**
 * The `claims` parameter: the claims challenge, with the client capabilities set as
 * `access_token.xms_cc`. Without capabilities the challenge passes through untouched, once checked
 * as with them: a caller's mistake must not depend on an unrelated option.
 */
export function mergeClaims(
  claimsChallenge: string | undefined,
  capabilities: readonly string[] = [],
): string | undefined {
  const claims = parseClaims(claimsChallenge)
  if (capabilities.length === 0) {
    return claimsChallenge
  }
  const accessToken = isObject(claims['access_token']) ? claims['access_token'] : {}
  claims['access_token'] = { ...accessToken, xms_cc: { values: [...capabilities] } }
  return JSON.stringify(claims)
}

/** Why `value` cannot be a claims challenge, or undefined when it can (none is none). */
export function claimsProblem(value: unknown): string | undefined {
  if (value === undefined || value === '') {
    return undefined
  }
  if (typeof value !== 'string') {
    return 'must be a JSON string'
  }
  try {
    return isObject(JSON.parse(value)) ? undefined : 'must be a JSON object'
  } catch {
    return 'must be valid JSON'
  }
}

function parseClaims(text: string | undefined): Record<string, unknown> {
  const problem = claimsProblem(text)
  if (problem !== undefined) {
    throw new UsageError('invalid_claims', `the claims challenge ${problem}`)
  }
  return text === undefined || text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
