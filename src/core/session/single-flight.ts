import type { AppContext } from './app-context.js'
import type { ClientTokenOptions } from './client-options.js'
import { openIdConfigurationUrl } from '../authority/authority.js'
import {
  type PickedToken,
  findAccessTokens,
  knownRealms,
  pickAccessToken,
} from '../token-cache/lookup.js'
import type { Logger } from '../kernel/log.js'
import type { Endpoints } from '../authority/discovery.js'
import { MsalTsError, UsageError } from '../kernel/errors.js'
import { refreshReasons } from '../grants/token-request.js'
import type { AuthenticationResult } from '../protocol/result.js'
import type { AccessTokenQuery } from '../token-cache/token-cache.js'

/** What a store reports when its file cannot be locked or written (storage/cache-store.ts); `cache_lock_lost` only ever comes after the fetch. */
const unwritableCacheCodes = new Set(['cache_file', 'cache_io', 'cache_lock_lost'])

/** What single flight needs of a client: its token cache, where that is kept, and its log. */
export type CacheSession = Pick<AppContext, 'tokenCache' | 'cacheStore' | 'persisted' | 'log'>

export async function loadCache(app: CacheSession): Promise<void> {
  if (app.persisted) {
    app.tokenCache.deserialize(await app.cacheStore.read())
  }
}

/**
 * The realms a cached token of this authority may carry, known without a request: the tenant as
 * configured, and the tenant id a domain resolved to when the discovery answer is still cached.
 */
export async function realmsKnown(app: AppContext): Promise<string[]> {
  const cached = await app.http().peek(openIdConfigurationUrl(app.authority))
  return knownRealms(app.authority, cached?.body)
}

/**
 * Single flight across processes: under the cache lock, reload and ask `cached` again (another
 * process may have just stored the token); only if it still misses, `fetch` and store.
 * A cache that cannot be written (read-only directory or disk) costs the caching, not the token:
 * the run warns and goes on, unless `mustPersist` (signing out must not pretend to succeed).
 */
export async function fetchOnce<T>(
  app: CacheSession,
  cached: () => T | undefined,
  fetch: () => Promise<T>,
  { mustPersist = false } = {},
): Promise<T> {
  let locked = false
  let fetched: { result: T } | undefined
  try {
    return await app.cacheStore.withLock(async () => {
      locked = true
      await loadCache(app)
      const hit = cached()
      if (hit !== undefined) {
        return hit
      }
      fetched = { result: await fetch() }
      if (app.persisted && app.tokenCache.hasStateChanged) {
        await app.cacheStore.write({ ...app.tokenCache.toJSON() })
      }
      return fetched.result
    })
  } catch (error) {
    const unwritable = error instanceof MsalTsError && unwritableCacheCodes.has(error.code)
    if (mustPersist || !unwritable || (locked && fetched === undefined)) {
      throw error
    }
    app.log({ kind: 'warning', message: `tokens not cached: ${error.message}` })
    return fetched === undefined ? fetch() : fetched.result
  }
}

/** Runs fn under the cache lock on a freshly loaded cache, and saves what it changed. */
export function updateCache<T>(app: CacheSession, fn: () => Promise<T>): Promise<T> {
  return fetchOnce(app, () => undefined, fn)
}

/**
 * What every cache-first acquisition shares: a usable cached token is returned at once; otherwise,
 * under the cache lock, the cache is asked again (another process may just have stored one) and
 * only then `fetch` runs. A token past its refresh_on is served when the fetch fails or finds
 * nothing, as MSAL does; a forced refresh is never answered by the token it replaces, but may
 * share the one a concurrent process fetched meanwhile.
 */
export async function cachedOrFetched(
  app: AppContext,
  query: Omit<AccessTokenQuery, 'realm'>,
  options: ClientTokenOptions,
  fetch: (endpoints: Endpoints, reason: number) => Promise<AuthenticationResult | undefined>,
  extraRealms: readonly string[] = [],
): Promise<AuthenticationResult | undefined> {
  const skipCache = options.forceRefresh === true || options.claimsChallenge !== undefined
  const pick = (realms: readonly string[], exclude?: ReadonlySet<string>) =>
    loggedPick(
      app.log,
      pickAccessToken(app.tokenCache, query, realms, {
        ...options,
        ...(exclude ? { exclude } : {}),
        now: app.clock(),
      }),
    )
  await loadCache(app)
  const known = [...new Set([...(await realmsKnown(app)), ...extraRealms])]
  const quick = skipCache ? {} : pick(known)
  if (quick.hit) {
    return quick.hit
  }
  let aging = quick.aging
  return agingOnFailure(
    () => aging,
    async () => {
      // A domain tenant caches its tokens under the tenant id only discovery tells, so the tokens
      // a forced refresh replaces are chosen once the realm is resolved.
      const endpoints = await app.endpoints()
      const realms = [...new Set([...known, endpoints.realm])]
      const cached = findAccessTokens(app.tokenCache, query, realms)
      const replaced = new Set(skipCache ? cached.map((at) => at.secret) : [])
      let reason: number = refreshReasons.forced
      if (!skipCache) {
        const found = pick(realms)
        if (found.hit) {
          return found.hit
        }
        aging ??= found.aging
        reason = aging
          ? refreshReasons.aging
          : cached.length > 0
            ? refreshReasons.expired
            : refreshReasons.absent
      }
      return fetchOnce(
        app,
        () => pick(realms, replaced).hit,
        () => fetch(endpoints, reason),
      )
    },
  )
}

/**
 * A token past its refresh_on (`aging`, read when the attempt ends) is served when getting a new
 * one fails or finds nothing, as MSAL does; a caller's mistake (a usage error) still surfaces.
 */
export async function agingOnFailure<T>(
  aging: () => T | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  try {
    const result = await attempt()
    return result === undefined ? (aging() ?? result) : result
  } catch (error) {
    const stale = aging()
    if (stale !== undefined && !(error instanceof UsageError)) {
      return stale
    }
    throw error
  }
}

/** A token answered from the cache is said at debug level, as a request is: -v shows where it came from. */
export function loggedPick(log: Logger, picked: PickedToken): PickedToken {
  if (picked.hit) {
    log({
      kind: 'cache',
      op: 'hit',
      detail: `access token for ${picked.hit.scope.join(' ')} (expires in ${picked.hit.expires_in} s)`,
    })
  }
  return picked
}
