import type { HttpResponse } from './http-types.js'

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

function isEntry(value: unknown): value is Entry {
  const entry = value as Entry | undefined
  return (
    typeof entry?.expires === 'number' &&
    typeof entry.response?.status === 'number' &&
    typeof entry.response.body === 'string'
  )
}
