import { dirname, join } from 'node:path'
import { nameIn } from '../../core/kernel/safe-file.js'
import { userHome, xdgBase } from './home.js'
import type { Authority } from '../../core/authority/authority.js'
import type { Io } from './io.js'

/** The platform's per-user cache directory for msal-ts. */
export function defaultCacheDir(io: Io, platform: NodeJS.Platform = process.platform): string {
  const env = io.env
  if (platform === 'win32') {
    return nameIn(
      nameIn(env['LOCALAPPDATA'] ?? join(userHome(), 'AppData', 'Local'), 'msal-ts'),
      'Cache',
    )
  }
  if (platform === 'darwin') {
    return join(userHome(), 'Library', 'Caches', 'msal-ts')
  }
  return nameIn(xdgBase(env['XDG_CACHE_HOME'], '.cache'), 'msal-ts')
}

/** One token cache file per (client id, authority), so unrelated apps never share a lock. */
export function tokenCachePath(cacheDir: string, clientId: string, authority: Authority): string {
  const tenant = authority.tenant ? `.${safe(authority.tenant)}` : ''
  return nameIn(cacheDir, `token-cache.${safe(clientId)}.${safe(authority.host)}${tenant}.json`)
}

/**
 * Discovery answers and throttle state live beside the token cache they serve. The directories
 * users name are joined as written (nameIn): the system, not path.join(), says where `x/..` is.
 */
export function httpCachePath(tokenCacheFile: string): string {
  return nameIn(dirname(tokenCacheFile), 'msal-ts.http-cache.json')
}

/** The Proof-of-Possession key pair, likewise beside the token cache (0600, like it). */
export function popKeyPath(tokenCacheFile: string): string {
  return nameIn(dirname(tokenCacheFile), 'msal-ts.pop-key.json')
}

function safe(part: string): string {
  return part.toLowerCase().replace(/[^a-z0-9._-]+/g, '_')
}
