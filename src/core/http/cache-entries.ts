import type { HttpResponse } from './types.js'

/**
 * The HTTP cache's document: what a reader needs without the HTTP stack, so the CLI's cache-hit
 * path can look up a discovery answer cheaply.
 */
export interface Entry {
  expires: number
  response: HttpResponse
}

export function getKey(url: string): string {
  return `GET ${url}`
}

/** The entries of an HTTP cache document still fresh at `now`. */
export function liveEntries(
  doc: Record<string, unknown> | undefined,
  now: number,
): Record<string, Entry> {
  const raw = doc?.['entries']
  const live: Record<string, Entry> = {}
  if (typeof raw !== 'object' || raw === null) {
    return live
  }
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (isEntry(value) && value.expires > now) {
      live[key] = value
    }
  }
  return live
}

/** The file may have been edited by anyone: an entry of another shape is ignored, never replayed. */
function isEntry(value: unknown): value is Entry {
  const entry = value as Partial<Entry> | undefined
  const response = entry?.response as Partial<HttpResponse> | undefined
  return (
    Number.isFinite(entry?.expires) &&
    Number.isInteger(response?.status) &&
    typeof response?.body === 'string' &&
    isStringRecord(response.headers)
  )
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  )
}

/**
 * The entries that may go through a store other machines write (a shared Redis): a GET answer only
 * when every endpoint it names that a run uses is on the origin it was asked from, which our own configuration chose. A provider whose endpoints are
 * legitimately elsewhere keeps its document in the local file alone.
 */
export function shareableEntries(
  doc: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const raw = doc?.['entries']
  if (typeof raw !== 'object' || raw === null) {
    return undefined
  }
  const entries = Object.entries(raw as Record<string, unknown>).filter(([key, value]) =>
    isShareable(key, value),
  )
  return { ...doc, entries: Object.fromEntries(entries) }
}

/** The shared entries, over the local ones that could not be shared. */
export function withLocalEntries(
  shared: Record<string, unknown> | undefined,
  local: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const own = Object.entries(entriesOf(local)).filter(([key, value]) => !isShareable(key, value))
  if (shared === undefined && own.length === 0) {
    return undefined
  }
  return { version: 1, ...shared, entries: { ...Object.fromEntries(own), ...entriesOf(shared) } }
}

function entriesOf(doc: Record<string, unknown> | undefined): Record<string, unknown> {
  const raw = doc?.['entries']
  return typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {}
}

function isShareable(key: string, value: unknown): boolean {
  if (!key.startsWith(getKey(''))) {
    return true
  }
  const body = (value as Partial<Entry> | undefined)?.response?.body
  const origin = originOf(key.slice(getKey('').length))
  let fields: unknown
  try {
    fields = typeof body === 'string' ? JSON.parse(body) : undefined
  } catch {
    return true
  }
  if (typeof fields !== 'object' || fields === null || origin === undefined) {
    return origin !== undefined
  }
  const named = fields as Record<string, unknown>
  return trustedEndpoints.every(
    (name) =>
      named[name] === undefined ||
      (typeof named[name] === 'string' && originOf(named[name]) === origin),
  )
}

/**
 * The endpoints a run sends credentials or codes to, signs in at, or takes keys or further
 * discovery from; others (Entra's userinfo on Graph) are never used.
 */
const trustedEndpoints = [
  'token_endpoint',
  'device_authorization_endpoint',
  'authorization_endpoint',
  'end_session_endpoint',
  'jwks_uri',
  'tenant_discovery_endpoint',
]

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}
