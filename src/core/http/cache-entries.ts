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

/** The body of a GET still fresh in an HTTP cache document. */
export function cachedGetBody(
  doc: Record<string, unknown> | undefined,
  url: string,
  now: number,
): string | undefined {
  return liveEntries(doc, now)[getKey(url)]?.response.body
}

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
