import type { ClientApplicationOptions } from '../../core/session/client-options.js'
import type { JsonStore } from '../../core/kernel/json-store.js'
import { openRedisStore } from '../../core/storage/redis-store.js'
import { openRedisDocumentStore } from '../../core/storage/redis-document.js'
import { shareableEntries, withLocalEntries } from '../../core/http/cache-entries.js'
import { openRedisLink, type RedisLink } from '../../core/storage/redis-link.js'
import type { Authority } from '../../core/authority/authority.js'
import { regionLabel } from '../../core/authority/region.js'
import { UsageError } from '../../core/kernel/errors.js'
import { quoted } from '../../core/kernel/quoted.js'
import { localCaches } from './local-caches.js'
import { type CommonSettings, checkOwnCaFile, settingsAuthority } from './settings.js'
import { type Io, warn } from './io.js'
import { stderrLogger } from './logging.js'

/**
 * The engine's options for the common settings: file-backed caches, logging, TLS and proxy.
 * `cacheOnly` marks the commands that send no HTTP request (accounts, logout). The region is a
 * confidential client's alone (regionOption).
 */
export function applicationOptions(
  settings: CommonSettings,
  io: Io,
  { cacheOnly = false }: { cacheOnly?: boolean } = {},
): Omit<ClientApplicationOptions, 'azureRegion'> {
  const checkedCa = cacheOnly ? undefined : checkOwnCaFile(settings)
  const logger = stderrLogger(io, settings)
  if (settings.insecure) {
    warn(
      io,
      'TLS certificate verification is off (--insecure): anyone on the network path can read and forge tokens',
    )
  }
  const authority = settingsAuthority(settings)
  const caches = localCaches(settings, io, authority)
  const onWarning = (message: string) => warn(io, message)
  const link = settings.noCache ? undefined : redisLink(settings, onWarning, checkedCa)
  return {
    clientId: settings.clientId,
    ...(settings.authority ? { authority: settings.authority } : {}),
    ...(settings.oidcAuthority ? { oidcAuthority: settings.oidcAuthority } : {}),
    validateAuthority: settings.validateAuthority,
    instanceDiscovery: settings.instanceDiscovery,
    cacheStore: settings.noCache
      ? caches.tokens
      : tokenStore(settings, authority, caches.tokens, onWarning, link),
    httpCache:
      link === undefined ? caches.http : sharedHttpCache(link, caches.http, settings, onWarning),
    popKeyStore: caches.popKey,
    verify: settings.insecure ? false : (settings.caFile ?? true),
    ...(settings.proxy ? { proxies: settings.proxy } : {}),
    timeout: settings.timeoutSeconds,
    ...(settings.appName ? { appName: settings.appName } : {}),
    ...(settings.appVersion ? { appVersion: settings.appVersion } : {}),
    clientCapabilities: settings.capabilities,
    excludeScopes: settings.excludeScopes,
    env: io.env,
    enablePiiLog: settings.pii,
    logger,
  }
}

/**
 * The region of a confidential client's app tokens (public clients have none), checked here so that
 * a bad one is named by where it was set rather than by the library's option.
 */
export function regionOption(settings: CommonSettings): { azureRegion?: string | true } {
  const { region, regionSource } = settings
  if (region === undefined) {
    return {}
  }
  if (region.toLowerCase() === 'auto') {
    return { azureRegion: true }
  }
  if (regionLabel(region) === undefined) {
    throw new UsageError(
      'invalid_region',
      `${regionSource ?? '--region'} must be a region name (letters, digits and hyphens) or auto, not ${quoted(region)}`,
    )
  }
  return { azureRegion: region }
}

/** The token cache file, or Redis with that file beside it as its local copy and fallback. */
export function tokenStore(
  settings: CommonSettings,
  authority: Authority,
  file: JsonStore,
  onWarning: (message: string) => void,
  link = redisLink(settings, onWarning),
): JsonStore {
  if (settings.cacheUrl === undefined || link === undefined) {
    return file
  }
  return openRedisStore({
    target: settings.cacheUrl,
    clientId: settings.clientId,
    tenant: authority.tenant,
    fallback: file,
    timeoutMs: settings.timeoutSeconds * 1000,
    onWarning,
    link,
  })
}

/**
 * The connection a run's Redis stores share, when the cache is in Redis (--cache-url). `checkedCa`
 * is the CA file's certificates when the run has read and checked them already.
 */
function redisLink(
  settings: CommonSettings,
  onWarning: (message: string) => void,
  checkedCa?: string,
): RedisLink | undefined {
  if (settings.cacheUrl === undefined) {
    return undefined
  }
  return openRedisLink({
    target: settings.cacheUrl,
    timeoutMs: settings.timeoutSeconds * 1000,
    ...(settings.caFile !== undefined ? { caFile: settings.caFile } : {}),
    ...(checkedCa !== undefined ? { checkedCa } : {}),
    insecure: settings.insecure,
    onWarning,
    endsWithProcess: true,
  })
}

/**
 * Discovery documents kept in Redis beside the tokens, so that runners sharing a Redis cache make
 * one discovery request between them, as they make one token request; the local file stays their
 * copy and fallback. A day, as each entry lives (core/http/cache.ts).
 */
function sharedHttpCache(
  link: RedisLink,
  file: JsonStore,
  settings: CommonSettings,
  onWarning: (message: string) => void,
): JsonStore {
  return openRedisDocumentStore({
    link,
    key: 'msal-ts:http-cache',
    ttlMs: 24 * 3600 * 1000,
    fallback: file,
    lockMs: settings.timeoutSeconds * 1000,
    onWarning,
    share: { select: shareableEntries, merge: withLocalEntries },
  })
}
