/**
 * msal-node's cache-hit path, as an app that shares a cache file would write it:
 *     node msal-node.cjs <cache_file> <client_id> <authority> <ca_file> <scope>...
 * Bundled to CommonJS before it runs, so it loads msal-node's own CommonJS build, its fastest start.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { type ICachePlugin, PublicClientApplication } from '@azure/msal-node'

const [cacheFile = '', clientId = '', authority = '', caFile = '', ...scopes] =
  process.argv.slice(2)

const plugin: ICachePlugin = {
  beforeCacheAccess: (context) => {
    context.tokenCache.deserialize(readFileSync(cacheFile, 'utf8'))
    return Promise.resolve()
  },
  afterCacheAccess: (context) => {
    if (context.cacheHasChanged) {
      writeFileSync(cacheFile, context.tokenCache.serialize())
    }
    return Promise.resolve()
  },
}

/**
 * What instance discovery would answer, given up front so msal-node skips it (as MSAL Python's
 * instance_discovery=False does). It also names the cache environment: msal-node keys the cache by
 * host:port, msal-ts and MSAL Python by host alone, which only differ on a provider with a port.
 */
function aliases(url: URL): string {
  return JSON.stringify({
    tenant_discovery_endpoint: `${url.href}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [
      {
        preferred_network: url.host,
        preferred_cache: url.hostname,
        aliases: [url.host, url.hostname],
      },
    ],
  })
}

async function main(): Promise<void> {
  const app = new PublicClientApplication({
    auth: { clientId, authority, cloudDiscoveryMetadata: aliases(new URL(authority)) },
    cache: { cachePlugin: plugin },
    system: { customAgentOptions: { ca: readFileSync(caFile, 'utf8') } },
  })
  const [account, ...others] = await app.getAllAccounts()
  if (account === undefined || others.length > 0) {
    throw new Error(`expected one account, found ${others.length + (account ? 1 : 0)}`)
  }
  const result = await app.acquireTokenSilent({ account, scopes })
  process.stdout.write(`${result.accessToken}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`msal-node peer: ${String(error)}\n`)
  process.exitCode = 1
})
