/**
 * msal-node 3.x as an app sharing a token cache file, for the interop tests:
 *
 *     tsx msal_node_peer.ts login  <cache_file> <client_id> <authority> <ca_file> <username> <scope>...
 *         (the password on stdin) acquireTokenByUsernamePassword
 *     tsx msal_node_peer.ts silent <cache_file> <client_id> <authority> <ca_file> <username|-> <force> <scope>...
 *         acquireTokenSilent for the account with that username ("-": the only account);
 *         force "1" sets forceRefresh
 *     tsx msal_node_peer.ts client <cache_file> <client_id> <authority> <ca_file> <secret> <force> <scope>...
 *         acquireTokenByClientCredential (which reads the cache first unless forced)
 *
 * Prints one JSON line: the access token (or the error), whether it came from the cache, and the
 * accounts msal-node sees.
 */
import { readFileSync } from 'node:fs'
import {
  type AccountInfo,
  type AuthenticationResult,
  ConfidentialClientApplication,
  PublicClientApplication,
} from '@azure/msal-node'
import { discoveryMetadata, fileCachePlugin } from './msal-node-cache.js'

const [command = '', cacheFile = '', clientId = '', authority = '', caFile = '', ...rest] =
  process.argv.slice(2)

const plugin = fileCachePlugin(cacheFile)

const auth = () => ({
  clientId,
  authority,
  cloudDiscoveryMetadata: discoveryMetadata(authority, 'host'),
})
const system = () => ({ customAgentOptions: { ca: readFileSync(caFile, 'utf8') } })

interface Output {
  access_token: string | null
  from_cache: boolean | null
  error: string | null
  accounts: AccountInfo[]
}

async function main(): Promise<Output> {
  if (command === 'client') {
    const [secret = '', force = '0', ...scopes] = rest
    const app = new ConfidentialClientApplication({
      auth: { ...auth(), clientSecret: secret },
      cache: { cachePlugin: plugin },
      system: system(),
    })
    const result = await app.acquireTokenByClientCredential({ scopes, skipCache: force === '1' })
    return done(result, [])
  }
  const app = new PublicClientApplication({
    auth: auth(),
    cache: { cachePlugin: plugin },
    system: system(),
  })
  let result: AuthenticationResult | null
  if (command === 'login') {
    const [username = '', ...scopes] = rest
    const password = readFileSync(0, 'utf8').replace(/\n$/, '')
    result = await app.acquireTokenByUsernamePassword({ username, password, scopes })
  } else if (command === 'silent') {
    const [username = '-', force = '0', ...scopes] = rest
    const all = await app.getAllAccounts()
    const account =
      username === '-'
        ? all.length === 1
          ? all[0]
          : undefined
        : all.find((a) => a.username.toLowerCase() === username.toLowerCase())
    if (account === undefined) {
      return { access_token: null, from_cache: null, error: 'no_account', accounts: all }
    }
    result = await app.acquireTokenSilent({ account, scopes, forceRefresh: force === '1' })
  } else {
    throw new Error(`unknown command ${command}`)
  }
  return done(result, await app.getAllAccounts())
}

function done(result: AuthenticationResult | null, accounts: AccountInfo[]): Output {
  return {
    access_token: result?.accessToken ?? null,
    from_cache: result?.fromCache ?? null,
    error: result === null ? 'no_result' : null,
    accounts,
  }
}

main().then(
  (output) => process.stdout.write(`${JSON.stringify(output)}\n`),
  (error: unknown) => {
    const code = (error as { errorCode?: string }).errorCode ?? 'exception'
    process.stdout.write(
      `${JSON.stringify({ access_token: null, from_cache: null, error: `${code}: ${String(error)}`, accounts: [] })}\n`,
    )
  },
)
