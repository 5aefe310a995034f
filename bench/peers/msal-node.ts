/**
 * msal-node's cache-hit path, as an app that shares a cache file would write it:
 *     node msal-node.cjs <cache_file> <client_id> <authority> <ca_file> <scope>...
 * Bundled to CommonJS before it runs, so it loads msal-node's own CommonJS build, its fastest start.
 */
import { readFileSync } from 'node:fs'
import { PublicClientApplication } from '@azure/msal-node'
import { discoveryMetadata, fileCachePlugin } from '../../test/interop/msal-node-cache.js'

const [cacheFile = '', clientId = '', authority = '', caFile = '', ...scopes] =
  process.argv.slice(2)

async function main(): Promise<void> {
  const app = new PublicClientApplication({
    auth: { clientId, authority, cloudDiscoveryMetadata: discoveryMetadata(authority, 'hostname') },
    cache: { cachePlugin: fileCachePlugin(cacheFile) },
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
