import { openIdConfigurationUrl } from '../core/authority/authority.js'
import {
  accountRealms,
  accountsIn,
  knownRealms,
  pickAccessToken,
  tenantIdKnown,
} from '../core/token-cache/lookup.js'
import { systemClock } from '../core/kernel/clock.js'
import { getKey, liveEntries } from '../core/http/cache-entries.js'
import { SerializableTokenCache } from '../core/token-cache/token-cache.js'
import { reservedAmong } from '../core/protocol/scopes.js'
import { chooseAccount } from './shared/account-choice.js'
import { localCaches } from './shared/local-caches.js'
import { absolutePath } from '../core/kernel/safe-file.js'
import type { Io } from './shared/io.js'
import type { Account } from '../core/protocol/result.js'
import type { AccessTokenEntry } from '../core/token-cache/schema.js'
import { type TokenFormat, tokenFormats, writeToken } from './shared/output.js'
import { resourceScope, scopesFrom } from './shared/scope-options.js'
import {
  type OptionDeclaration,
  attributeName,
  commonOptionsFor,
  longName,
} from './shared/common-option-table.js'
import { tokenCacheHitOptions } from './token-options.js'
import {
  type CommonFlags,
  checkOwnCaFile,
  resolveCommon,
  settingsAuthority,
} from './shared/settings.js'

/** A token printed from the cache, and where it came from when that can be told. */
export interface CacheAnswer {
  hit?: CacheHit
}

/** What a memo of the answer needs to give it again. */
export interface CacheHit {
  tokenFile: string
  /** The access token's key in the file, and the entry there. */
  tokenKey: string
  token: AccessTokenEntry
  account: Account
  format: TokenFormat
  /** Until when (seconds) the same files give the same answer. */
  until: number
}

/**
 * `msal-ts token` answered from the cache, the way scripts call it all day: no command-line
 * framework, no network stack, no crypto. Only a plain cache hit is served here; anything else
 * (an unknown option, a refresh, a prompt, an error to report) goes the full way, so behaviour and
 * messages stay those of the `token` command itself.
 */
export async function tokenFromCache(
  args: readonly string[],
  io: Io,
): Promise<CacheAnswer | undefined> {
  const parsed = parseTokenArgs(args)
  if (parsed === undefined) {
    return undefined
  }
  try {
    const settings = resolveCommon(parsed.flags, io)
    // Excluded scopes are checked by the application the full CLI builds (openid is refused).
    if (
      settings.excludeScopes.length > 0 ||
      settings.noCache ||
      settings.cacheUrl !== undefined ||
      settings.insecure ||
      settings.logLevel === 'debug' ||
      settings.logLevel === 'info'
    ) {
      return undefined
    }
    checkOwnCaFile(settings)
    const scopes = scopesFrom(parsed.scope, resourceScope(parsed.resource))
    // The token command refuses these (a user flow adds them itself): the full way says so.
    if (reservedAmong(scopes).length > 0) {
      return undefined
    }
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
      return undefined
    }
    // Never a prompt here: several accounts and none named went to the full CLI above.
    const account = await chooseAccount(accounts, parsed.account, { env: io.env })
    const now = systemClock()
    // Only a tenant named by its domain has a realm that discovery alone knows (its tenant id).
    const discovery = tenantIdKnown(authority)
      ? undefined
      : liveEntries(await caches.http.read(), now)[getKey(openIdConfigurationUrl(authority))]
    const query = {
      clientId: settings.clientId,
      environment: authority.instance,
      homeAccountId: account.home_account_id,
      scopes,
    }
    const realms = [
      ...knownRealms(authority, discovery?.response.body),
      ...accountRealms(authority, account),
    ]
    const { hit, entry, until } = pickAccessToken(cache, query, realms, {
      now,
      ...(parsed.minValidity !== undefined ? { minValidity: parsed.minValidity } : {}),
    })
    const output = parsed.output ?? settings.output ?? 'raw'
    if (hit === undefined || !isTokenFormat(output)) {
      return undefined
    }
    const tokenKey = entry && cache.accessTokenKeyOf(entry)
    const source =
      caches.tokenFile !== undefined && entry && tokenKey !== undefined && until !== undefined
        ? {
            // Named as the store names it when it reads: from the root.
            tokenFile: absolutePath(caches.tokenFile),
            tokenKey,
            token: entry,
            account,
            format: output,
            // A discovery answer that adds a realm stops adding it when it expires.
            until: Math.min(until, discovery?.expires ?? Infinity),
          }
        : undefined
    writeToken(io, { ...hit, account }, output, { account })
    return source ? { hit: source } : {}
  } catch {
    return undefined
  }
}

function isTokenFormat(name: string): name is TokenFormat {
  return (tokenFormats as readonly string[]).includes(name)
}

interface TokenArgs {
  flags: CommonFlags
  scope: string[]
  resource?: string
  account?: string
  minValidity?: number
  output?: string
}

/**
 * The options parsed here: the shared ones the `token` command lists, from the same table, and
 * those of its own that a cache hit honours. Any other (--force-refresh, --pop-*, ...) is handed
 * to the full CLI. Settings a hit cannot honour (--no-cache, --insecure, -v) are parsed, then
 * turned away after they are resolved, as the same settings from the environment are.
 */
export const fastPathOptions: readonly OptionDeclaration[] = [
  // A Redis cache goes the full way, which checks its URL (and warns of a password in it) once.
  ...commonOptionsFor('user-tokens').filter(({ flags }) => !flags.includes('--cache-url ')),
  ...tokenCacheHitOptions,
]

interface Parsed {
  key: string
  takesValue: boolean
  /** For an option without a value: what it sets. */
  sets: boolean
  repeatable: boolean
  /** One of `token`'s own options, not a shared setting. */
  own: boolean
}

/**
 * The option an argument names (`-c`, `--client-id`). Only the names given are looked up: working
 * out every option's names up front cost a millisecond of each cached `token`.
 */
function optionNamed(name: string): Parsed | undefined {
  const option = name.startsWith('-')
    ? fastPathOptions.find(({ flags }) => flags.replaceAll(',', '').split(' ').includes(name))
    : undefined
  if (option === undefined) {
    return undefined
  }
  return {
    key: attributeName(option.flags),
    takesValue: option.flags.includes('<'),
    sets: !longName(option.flags).negated,
    repeatable: option.repeatable === true,
    own: (tokenCacheHitOptions as readonly OptionDeclaration[]).includes(option),
  }
}

/** The `token` options a cache hit can honour; undefined for anything else. */
export function parseTokenArgs(args: readonly string[]): TokenArgs | undefined {
  const values: Record<string, string[]> = {}
  const common: Record<string, string | string[]> = {}
  const flags: Record<string, boolean> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ''
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const option = optionNamed(eq > 0 ? arg.slice(0, eq) : arg)
    if (option === undefined) {
      return undefined
    }
    if (!option.takesValue) {
      if (eq > 0) {
        return undefined
      }
      flags[option.key] = option.sets
      continue
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i]
    // An empty value is refused (or meant) by the full CLI, never read here as the option unset.
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('-'))) {
      return undefined
    }
    values[option.key] = option.repeatable ? [...(values[option.key] ?? []), value] : [value]
    if (!option.own) {
      common[option.key] = option.repeatable ? (values[option.key] ?? []) : value
    }
  }
  const one = (key: string) => values[key]?.at(-1)
  const minValidity = one('minValidity')
  if (minValidity !== undefined && !/^\d+$/.test(minValidity)) {
    return undefined
  }
  const resource = one('resource')
  const account = one('account')
  const output = one('output')
  return {
    flags: { cache: true, color: true, ...flags, ...common },
    scope: values['scope'] ?? [],
    ...(resource !== undefined ? { resource } : {}),
    ...(account !== undefined ? { account } : {}),
    ...(minValidity !== undefined ? { minValidity: Number(minValidity) } : {}),
    ...(output !== undefined ? { output } : {}),
  }
}
