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
import { readFileSync, writeFileSync } from 'node:fs'
import {
  type AccountInfo,
  type AuthenticationResult,
  ConfidentialClientApplication,
  type ICachePlugin,
  PublicClientApplication,
} from '@azure/msal-node'

const [command = '', cacheFile = '', clientId = '', authority = '', caFile = '', ...rest] =
  process.argv.slice(2)

const plugin: ICachePlugin = {
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

/**
 * What the test STS's instance discovery answers, plus the port-less host as an alias, given up
 * front so msal-node skips the request (as MSAL Python's instance_discovery=False does). The
 * preferred cache host is `127.0.0.1:<port>`, so msal-node writes that environment while msal-ts
 * and MSAL Python write `127.0.0.1`: the loopback analogue of login.windows.net vs
 * login.microsoftonline.com in the public cloud.
 */
function aliases(url: URL): string {
  return JSON.stringify({
    tenant_discovery_endpoint: `${url.href}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [
      { preferred_network: url.host, preferred_cache: url.host, aliases: [url.host, url.hostname] },
    ],
  })
}

const auth = () => ({
  clientId,
  authority,
  cloudDiscoveryMetadata: aliases(new URL(authority)),
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
