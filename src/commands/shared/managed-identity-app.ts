import { parseAuthority } from '../../core/authority/authority.js'
import {
  ManagedIdentityClient,
  managedIdentityAuthority,
} from '../../core/clients/managed-identity.js'
import { memoryStore } from '../../core/kernel/json-store.js'
import type { ManagedIdentityId } from '../../core/managed-identity/sources.js'
import { openJsonFileStore } from '../../core/storage/cache-store.js'
import { tokenStore } from './app.js'
import { defaultCacheDir, tokenCachePath } from './cache-paths.js'
import { type Io, warn } from './io.js'
import { stderrLogger } from './logging.js'
import { type CommonSettings, checkOwnCaFile } from './settings.js'

/** What `client-token --managed-identity` asks of its client; closing it closes the cache too. */
export interface ManagedIdentityApp {
  acquireTokenForClient: ManagedIdentityClient['acquireTokenForClient']
  close(): Promise<void>
}

/**
 * The machine's managed identity (`id`, or the system-assigned one), its tokens kept as the other
 * app tokens are: the cache file under the identity's id (settings.clientId), or Redis beside it.
 */
export function managedIdentityApp(
  settings: CommonSettings,
  io: Io,
  id: ManagedIdentityId | undefined,
): ManagedIdentityApp {
  checkOwnCaFile(settings)
  if (settings.insecure) {
    warn(
      io,
      'TLS certificate verification is off (--insecure): anyone on the network path can read and forge tokens',
    )
  }
  const authority = parseAuthority(managedIdentityAuthority)
  const cacheFile =
    settings.cacheFile ??
    tokenCachePath(settings.cacheDir ?? defaultCacheDir(io), settings.clientId, authority)
  const onWarning = (message: string) => warn(io, message)
  // Shared through Redis (--cache-url) as the other app tokens are, the file as its local copy.
  const cacheStore = settings.noCache
    ? memoryStore()
    : tokenStore(settings, authority, openJsonFileStore({ path: cacheFile, onWarning }), onWarning)
  const client = new ManagedIdentityClient({
    ...(id ? { managedIdentity: id } : {}),
    cacheStore,
    verify: settings.insecure ? false : (settings.caFile ?? true),
    ...(settings.proxy ? { proxies: settings.proxy } : {}),
    timeout: settings.timeoutSeconds,
    logger: stderrLogger(io, settings),
    enablePiiLog: settings.pii,
    env: io.env,
  })
  return {
    acquireTokenForClient: (resource, options) => client.acquireTokenForClient(resource, options),
    close: async () => {
      try {
        await client.close()
      } finally {
        // The client leaves its store open; a Redis connection would keep the process alive.
        await cacheStore.close?.()
      }
    },
  }
}
