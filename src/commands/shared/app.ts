import type { ClientApplicationOptions } from '../../core/application.js'
import { openJsonFileStore } from '../../core/cache-store.js'
import { type JsonStore, memoryStore } from '../../core/persistence.js'
import { openRedisStore } from '../../core/redis-store.js'
import { cacheDocumentProblem } from '../../core/token-cache/schema.js'
import { type Authority, defaultAuthority, parseAuthority } from '../../core/authority.js'
import { defaultCacheDir, httpCachePath, popKeyPath, tokenCachePath } from './cache-paths.js'
import type { CommonSettings } from './settings.js'
import { type Io, warn } from './io.js'
import { stderrLogger } from './logging.js'

/** The engine's options for the common settings: file-backed caches, logging, TLS and proxy. */
export function applicationOptions(settings: CommonSettings, io: Io): ClientApplicationOptions {
  const logger = stderrLogger(io, settings.logLevel, settings.pii)
  if (settings.insecure) {
    warn(
      io,
      'TLS certificate verification is off (--insecure): anyone on the network path can read and forge tokens',
    )
  }
  const authority = settingsAuthority(settings)
  const tokenFile =
    settings.cacheFile ??
    tokenCachePath(settings.cacheDir ?? defaultCacheDir(io), settings.clientId, authority)
  const onWarning = (message: string) => warn(io, message)
  const region = settings.region?.toLowerCase() === 'auto' ? true : settings.region
  return {
    clientId: settings.clientId,
    ...(settings.authority ? { authority: settings.authority } : {}),
    ...(settings.oidcAuthority ? { oidcAuthority: settings.oidcAuthority } : {}),
    validateAuthority: settings.validateAuthority,
    instanceDiscovery: settings.instanceDiscovery,
    cacheStore: settings.noCache
      ? memoryStore()
      : tokenStore(
          settings,
          authority,
          openJsonFileStore({ path: tokenFile, onWarning, shapeProblem: cacheDocumentProblem }),
          onWarning,
        ),
    httpCache: settings.noCache
      ? memoryStore()
      : openJsonFileStore({ path: httpCachePath(tokenFile), onWarning }),
    popKeyStore: settings.noCache
      ? memoryStore()
      : openJsonFileStore({ path: popKeyPath(tokenFile), onWarning }),
    verify: settings.insecure ? false : (settings.caFile ?? true),
    ...(settings.proxy ? { proxies: settings.proxy } : {}),
    timeout: settings.timeoutSeconds,
    ...(settings.appName ? { appName: settings.appName } : {}),
    ...(settings.appVersion ? { appVersion: settings.appVersion } : {}),
    clientCapabilities: settings.capabilities,
    excludeScopes: settings.excludeScopes,
    ...(region !== undefined ? { azureRegion: region } : {}),
    enablePiiLog: settings.pii,
    logger,
  }
}

/** The token cache file, or Redis with that file beside it as its local copy and fallback. */
function tokenStore(
  settings: CommonSettings,
  authority: Authority,
  file: JsonStore,
  onWarning: (message: string) => void,
): JsonStore {
  if (settings.cacheUrl === undefined) {
    return file
  }
  return openRedisStore({
    target: settings.cacheUrl,
    clientId: settings.clientId,
    tenant: authority.tenant,
    fallback: file,
    timeoutMs: settings.timeoutSeconds * 1000,
    ...(settings.caFile !== undefined ? { caFile: settings.caFile } : {}),
    insecure: settings.insecure,
    onWarning,
  })
}

/** The authority the settings name, parsed and checked. */
export function settingsAuthority(settings: CommonSettings): Authority {
  return settings.oidcAuthority
    ? parseAuthority(settings.oidcAuthority, { oidc: true })
    : parseAuthority(settings.authority ?? defaultAuthority)
}
