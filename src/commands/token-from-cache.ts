import { openIdConfigurationUrl } from '../core/authority/authority.js'
import {
  accountRealms,
  accountsIn,
  knownRealms,
  pickAccessToken,
} from '../core/token-cache/lookup.js'
import { systemClock } from '../core/kernel/clock.js'
import { cachedGetBody } from '../core/http/cache-entries.js'
import { resourceToScope } from '../core/protocol/scopes.js'
import { SerializableTokenCache } from '../core/token-cache/token-cache.js'
import { chooseAccount } from './shared/account-choice.js'
import { localCaches } from './shared/local-caches.js'
import { terminalPrompter } from './shared/prompter.js'
import type { Io } from './shared/io.js'
import { type TokenFormat, tokenFormats, writeToken } from './shared/output.js'
import { scopesFrom } from './shared/scope-options.js'
import { type CommonFlags, resolveCommon, settingsAuthority } from './shared/settings.js'

/**
 * `msal-ts token` answered from the cache, the way scripts call it all day: no command-line
 * framework, no network stack, no crypto. Only a plain cache hit is served here; anything else
 * (an unknown option, a refresh, a prompt, an error to report) goes the full way, so behaviour and
 * messages stay those of the `token` command itself.
 */
export async function tokenFromCache(args: readonly string[], io: Io): Promise<boolean> {
  const parsed = parseTokenArgs(args)
  if (parsed === undefined) {
    return false
  }
  try {
    const settings = resolveCommon(parsed.flags, io)
    if (
      settings.noCache ||
      settings.cacheUrl !== undefined ||
      settings.insecure ||
      settings.logLevel === 'debug' ||
      settings.logLevel === 'info'
    ) {
      return false
    }
    const scopes = scopesFrom(
      parsed.scope,
      parsed.resource === undefined ? undefined : resourceToScope(parsed.resource),
    )
    const authority = settingsAuthority(settings)
    const caches = localCaches(settings, io, authority)
    const cache = new SerializableTokenCache()
    cache.deserialize(await caches.tokens.read())
    const accounts = accountsIn(cache, authority.instance)
    if (
      accounts.length !== 1 &&
      parsed.account === undefined &&
      io.env['MSAL_TS_ACCOUNT'] === undefined
    ) {
      return false
    }
    const account = await chooseAccount(accounts, parsed.account, {
      env: io.env,
      prompter: terminalPrompter(io),
    })
    const now = systemClock()
    const discovery = cachedGetBody(
      await caches.http.read(),
      openIdConfigurationUrl(authority),
      now,
    )
    const query = {
      clientId: settings.clientId,
      environment: authority.instance,
      homeAccountId: account.home_account_id,
      scopes,
    }
    const realms = [...knownRealms(authority, discovery), ...accountRealms(authority, account)]
    const { hit } = pickAccessToken(cache, query, realms, {
      now,
      ...(parsed.minValidity !== undefined ? { minValidity: parsed.minValidity } : {}),
    })
    if (hit === undefined) {
      return false
    }
    const output = parsed.output ?? settings.output ?? 'raw'
    if (!(tokenFormats as readonly string[]).includes(output)) {
      return false
    }
    writeToken(io, { ...hit, account }, output as TokenFormat, { account })
    return true
  } catch {
    return false
  }
}

interface TokenArgs {
  flags: CommonFlags
  scope: string[]
  resource?: string
  account?: string
  minValidity?: number
  output?: string
}

const valueOptions: Record<string, string> = {
  '-c': 'clientId',
  '--client-id': 'clientId',
  '-a': 'authority',
  '--authority': 'authority',
  '-t': 'tenant',
  '--tenant': 'tenant',
  '--cloud': 'cloud',
  '--oidc-authority': 'oidcAuthority',
  '--region': 'region',
  '--capability': 'capability',
  '--exclude-scope': 'excludeScope',
  '--cache-file': 'cacheFile',
  '--cache-dir': 'cacheDir',
  '--proxy': 'proxy',
  '--ca-file': 'caFile',
  '--timeout': 'timeout',
  '--app-name': 'appName',
  '--app-version': 'appVersion',
  '--log-level': 'logLevel',
  '--profile': 'profile',
  '-s': 'scope',
  '--scope': 'scope',
  '--resource': 'resource',
  '--account': 'account',
  '--min-validity': 'minValidity',
  '-o': 'output',
  '--output': 'output',
}
const repeatable = new Set(['capability', 'excludeScope', 'scope'])
const flagOptions: Record<string, [string, boolean]> = {
  '--pii': ['pii', true],
  '--no-color': ['color', false],
  '--no-validate-authority': ['validateAuthority', false],
  '--no-instance-discovery': ['instanceDiscovery', false],
}

/** The `token` options a cache hit can honour; undefined for anything else. */
function parseTokenArgs(args: readonly string[]): TokenArgs | undefined {
  const values: Record<string, string[]> = {}
  const flags: Record<string, boolean> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ''
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const name = eq > 0 ? arg.slice(0, eq) : arg
    const flag = flagOptions[name]
    if (flag && eq < 0) {
      flags[flag[0]] = flag[1]
      continue
    }
    const key = valueOptions[name]
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i]
    if (key === undefined || value === undefined || (eq < 0 && value.startsWith('-'))) {
      return undefined
    }
    values[key] = repeatable.has(key) ? [...(values[key] ?? []), value] : [value]
  }
  const one = (key: string) => values[key]?.at(-1)
  const output = one('output')
  const minValidity = one('minValidity')
  if (minValidity !== undefined && !/^\d+$/.test(minValidity)) {
    return undefined
  }
  const common: CommonFlags = {
    validateAuthority: flags['validateAuthority'] ?? true,
    instanceDiscovery: flags['instanceDiscovery'] ?? true,
    capability: values['capability'] ?? [],
    excludeScope: values['excludeScope'] ?? [],
    cache: true,
    color: flags['color'] ?? true,
    ...(flags['pii'] ? { pii: true } : {}),
  }
  for (const key of [
    'clientId',
    'authority',
    'tenant',
    'cloud',
    'oidcAuthority',
    'region',
    'cacheFile',
    'cacheDir',
    'proxy',
    'caFile',
    'timeout',
    'appName',
    'appVersion',
    'logLevel',
    'profile',
  ] as const) {
    const value = one(key)
    if (value !== undefined) {
      common[key] = value
    }
  }
  const resource = one('resource')
  const account = one('account')
  return {
    flags: common,
    scope: values['scope'] ?? [],
    ...(resource !== undefined ? { resource } : {}),
    ...(account !== undefined ? { account } : {}),
    ...(minValidity !== undefined ? { minValidity: Number(minValidity) } : {}),
    ...(output !== undefined ? { output } : {}),
  }
}
