/** What an msal-node app needs to share a token cache file with msal-ts on the test STS. */
import { readFileSync, writeFileSync } from 'node:fs'
import type { ICachePlugin } from '@azure/msal-node'

/** msal-node's cache plugin over one file; a missing or empty file is an empty cache. */
export function fileCachePlugin(cacheFile: string): ICachePlugin {
  return {
    beforeCacheAccess: (context) => {
      let text = ''
      try {
        text = readFileSync(cacheFile, 'utf8')
      } catch {
        // no file yet: an empty cache
      }
      if (text !== '') {
        context.tokenCache.deserialize(text)
      }
      return Promise.resolve()
    },
    afterCacheAccess: (context) => {
      if (context.cacheHasChanged) {
        writeFileSync(cacheFile, context.tokenCache.serialize())
      }
      return Promise.resolve()
    },
  }
}

/**
 * What instance discovery would answer for a loopback STS, given up front so msal-node skips the
 * request (as MSAL Python's instance_discovery=False does), with the port-less host as an alias.
 * `preferredCache` is the environment msal-node writes: `127.0.0.1:<port>` is what it would pick
 * itself (the loopback analogue of login.windows.net vs login.microsoftonline.com), `127.0.0.1`
 * what msal-ts and MSAL Python write.
 */
export function discoveryMetadata(authority: string, preferredCache: 'host' | 'hostname'): string {
  const url = new URL(authority)
  return JSON.stringify({
    tenant_discovery_endpoint: `${url.href}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [
      {
        preferred_network: url.host,
        preferred_cache: preferredCache === 'host' ? url.host : url.hostname,
        aliases: [url.host, url.hostname],
      },
    ],
  })
}
