import { createHash } from 'node:crypto'
import type { Clock } from '../kernel/clock.js'
import type { HttpClient, HttpRequest, HttpResponse } from './types.js'
import { retryAfterSeconds } from './retry-after.js'
import type { Logger } from '../kernel/log.js'
import type { JsonStore } from '../kernel/json-store.js'
import { type Entry, getKey, liveEntries } from './cache-entries.js'

/** GET answers (discovery documents) are good for a day, as in MSAL. */
const getTtl = 24 * 3600
const maxThrottle = 3600

export interface HttpCacheOptions {
  store: JsonStore
  clock: Clock
  log: Logger
}

/**
 * MSAL's HTTP cache, persisted: successful GETs are kept for a day so a later process needs no
 * discovery request, and a 429, 5xx or Retry-After answer from a token endpoint is replayed to the
 * same request until it expires, so many processes do not hammer a provider that asked them to wait.
 * A plain 400 is never replayed.
 */
export function withHttpCache(
  inner: HttpClient,
  options: HttpCacheOptions,
): HttpClient & { peek(url: string): Promise<HttpResponse | undefined> } {
  let loaded: Promise<Record<string, Entry>> | undefined
  const entries = () =>
    (loaded ??= options.store.read().then((doc) => liveEntries(doc, options.clock())))

  async function remember(key: string, entry: Entry): Promise<void> {
    const current = await entries()
    current[key] = entry
    try {
      await options.store.withLock(async () => {
        await save({ ...liveEntries(await options.store.read(), options.clock()), [key]: entry })
      })
    } catch (error) {
      // The HTTP cache only saves requests; failing to persist it must not fail the run.
      options.log({
        kind: 'warning',
        message: `could not save the HTTP cache: ${(error as Error).message}`,
      })
    }
  }

  /**
   * Processes that miss the same GET at once (a burst of CI jobs) make one request between them:
   * under the store's lock each asks the file again before going to the network. When the store
   * cannot be locked, the request is simply made.
   */
  async function getOnce(req: HttpRequest, key: string): Promise<HttpResponse> {
    const fresh = req.headers?.['cache-control'] === 'no-cache'
    let sent = false
    try {
      return await options.store.withLock(async () => {
        const stored = liveEntries(await options.store.read(), options.clock())
        const hit = fresh ? undefined : stored[key]
        if (hit && stillGood(req, hit)) {
          ;(await entries())[key] = hit
          return hit.response
        }
        sent = true
        const response = await inner.request(req)
        if (response.status >= 200 && response.status < 300 && (req.keep?.(response) ?? true)) {
          const entry = { expires: options.clock() + getTtl, response: keep(response) }
          ;(await entries())[key] = entry
          await save({ ...stored, [key]: entry })
        }
        return response
      })
    } catch (error) {
      if (sent) {
        throw error
      }
      options.log({
        kind: 'warning',
        message: `the HTTP cache is not usable: ${(error as Error).message}`,
      })
      return inner.request(req)
    }
  }

  /** Saving only spares later requests; a failure to save must not fail the run. */
  async function save(document: Record<string, Entry>): Promise<void> {
    try {
      await options.store.write({ version: 1, entries: document })
    } catch (error) {
      options.log({
        kind: 'warning',
        message: `could not save the HTTP cache: ${(error as Error).message}`,
      })
    }
  }

  return {
    async peek(url) {
      return (await entries())[getKey(url)]?.response
    },
    async request(req) {
      const key = keyOf(req)
      // `Cache-Control: no-cache` asks for a fresh answer (a rotated key set), which is then kept.
      const cached =
        req.headers?.['cache-control'] === 'no-cache' ? undefined : (await entries())[key]
      if (cached && cached.expires > options.clock() && replayable(req, cached)) {
        if (req.method === 'GET') {
          options.log({ kind: 'discovery', url: req.url, source: 'http-cache' })
        }
        return cached.response
      }
      if (req.method === 'GET') {
        return getOnce(req, key)
      }
      const response = await inner.request(req)
      const now = options.clock()
      if (throttles(response)) {
        await remember(key, {
          expires: now + throttleSeconds(req, response),
          response: keep(response),
        })
      }
      return response
    },
  }
}

/**
 * A kept answer passes the check a fresh one does before it is used again: anyone who can write the
 * cache (a shared Redis) could otherwise hand out a document we would never have kept, and an entry
 * that fails the check is replaced by a fresh answer rather than failing every run until it expires.
 */
function stillGood(req: HttpRequest, entry: Entry): boolean {
  return req.keep?.(entry.response) ?? true
}

/**
 * A token endpoint's answer is kept only when it asked to wait: any other kept answer to a POST
 * (a token, written by whoever can write a shared cache) is never handed out as the provider's.
 */
function replayable(req: HttpRequest, entry: Entry): boolean {
  return stillGood(req, entry) && (req.method === 'GET' || throttles(entry.response))
}

function throttles(response: HttpResponse): boolean {
  return (
    response.status === 429 ||
    response.status >= 500 ||
    response.headers['retry-after'] !== undefined
  )
}

/** Retry-After when given (capped at an hour); otherwise a minute for a public client, 5 s for a confidential one. */
function throttleSeconds(req: HttpRequest, response: HttpResponse): number {
  const retryAfter = retryAfterSeconds(response.headers['retry-after'])
  if (retryAfter !== undefined) {
    return Math.min(retryAfter, maxThrottle)
  }
  const confidential =
    req.form?.['client_secret'] !== undefined || req.form?.['client_assertion'] !== undefined
  return confidential ? 5 : 60
}

/** POSTs are keyed by what identifies the request without storing any secret: scope, client and a hash of the grant. */
function keyOf(req: HttpRequest): string {
  if (req.method === 'GET') {
    return getKey(req.url)
  }
  const form = req.form ?? {}
  const grant =
    form['refresh_token'] ?? form['code'] ?? form['username'] ?? form['device_code'] ?? ''
  const hash = createHash('sha256').update(grant).digest('base64url')
  return `POST ${req.url} client_id=${form['client_id'] ?? ''} scope=${form['scope'] ?? ''} hash=${hash}`
}

/** Only what a replay needs; never a Set-Cookie or the like. */
function keep(response: HttpResponse): HttpResponse {
  const headers: Record<string, string> = {}
  for (const name of ['content-type', 'retry-after']) {
    const value = response.headers[name]
    if (value !== undefined) {
      headers[name] = value
    }
  }
  return { status: response.status, headers, body: response.body }
}
