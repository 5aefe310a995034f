import type { Authority } from '../../core/authority/authority.js'
import { openJsonFileStore } from '../../core/storage/cache-store.js'
import { type JsonStore, memoryStore } from '../../core/kernel/json-store.js'
import { cacheDocumentProblem } from '../../core/token-cache/schema.js'
import { defaultCacheDir, httpCachePath, popKeyPath, tokenCachePath } from './cache-paths.js'
import { type Io, warn } from './io.js'
import type { CommonSettings } from './settings.js'

/** The caches kept on this machine: the token cache file, and the discovery cache and PoP key beside it. */
export interface LocalCaches {
  tokens: JsonStore
  /** The file `tokens` reads, as it is named (none with --no-cache). */
  tokenFile?: string
  http: JsonStore
  popKey: JsonStore
}

/** File stores for the settings, or stores in memory with --no-cache. No Redis code is reached from here. */
export function localCaches(settings: CommonSettings, io: Io, authority: Authority): LocalCaches {
  if (settings.noCache) {
    return { tokens: memoryStore(), http: memoryStore(), popKey: memoryStore() }
  }
  const tokenFile =
    settings.cacheFile ??
    tokenCachePath(settings.cacheDir ?? defaultCacheDir(io), settings.clientId, authority)
  const onWarning = (message: string) => warn(io, message)
  return {
    tokenFile,
    tokens: openJsonFileStore({ path: tokenFile, onWarning, shapeProblem: cacheDocumentProblem }),
    http: openJsonFileStore({ path: httpCachePath(tokenFile), onWarning }),
    popKey: openJsonFileStore({ path: popKeyPath(tokenFile), onWarning }),
  }
}
