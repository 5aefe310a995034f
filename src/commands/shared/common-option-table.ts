/**
 * The options every command shares (cli.md), declared once: common-options.ts makes commander's
 * options from this table, CommonFlags is derived from it, and the cached-token fast path parses
 * argv with it. Plain data on purpose: the fast path must not load commander.
 */
import { defaultAuthority } from '../../core/authority/authority.js'
import { tokenFormats } from './output.js'

/**
 * What a command asks the identity provider for, which decides the options it lists (cli.md: a
 * command lists only options that change what it does): the cache-only commands send no HTTP
 * request, so they take no discovery, proxy or telemetry option (TLS and timeout options stay:
 * they act on a rediss:// cache), and no --no-cache, which would leave them an empty cache to
 * read or change while the real one stays as it was; capabilities and excluded scopes for every token request, a
 * region for app tokens. An authorization URL is a user-token request that caches no token, so
 * it takes no Redis cache.
 */
export type TokenRequests = 'none' | 'authorization-url' | 'user-tokens' | 'app-tokens'

/** Which commands list an option; every command when an option names none. */
type ListedFor = 'http-requests' | 'app-tokens' | 'token-cache'

const listedFor: Record<ListedFor, (requests: TokenRequests) => boolean> = {
  'http-requests': (requests) => requests !== 'none',
  'app-tokens': (requests) => requests === 'app-tokens',
  'token-cache': (requests) => requests !== 'authorization-url',
}

export interface OptionDeclaration {
  /** As commander takes them: `-c, --client-id <id>`, `--no-cache`, `--pii`. */
  readonly flags: string
  readonly description: string
  readonly only?: ListedFor
  /** Each use adds a value to a list, which starts empty. */
  readonly repeatable?: true
  readonly choices?: readonly string[]
  readonly default?: string
}

export const commonOptions = [
  {
    flags: '-c, --client-id <id>',
    description: 'application (client) id [env: MSAL_TS_CLIENT_ID, AZURE_CLIENT_ID]',
  },
  {
    flags: '-a, --authority <url>',
    description: `authority URL (default: ${defaultAuthority}) [env: MSAL_TS_AUTHORITY]`,
  },
  {
    flags: '-t, --tenant <id>',
    description: 'tenant id or domain: authority = <cloud host>/<tenant> [env: AZURE_TENANT_ID]',
  },
  {
    flags: '--cloud <cloud>',
    description: 'public, usgov, china, or an authority host URL [env: AZURE_AUTHORITY_HOST]',
  },
  {
    flags: '--oidc-authority <url>',
    description:
      'any OpenID provider (metadata at <url>/.well-known/openid-configuration) [env: MSAL_TS_OIDC_AUTHORITY]',
  },
  {
    flags: '--no-validate-authority',
    description: 'trust the authority without instance discovery',
    only: 'http-requests',
  },
  {
    flags: '--no-instance-discovery',
    description: 'skip instance discovery and alias metadata',
    only: 'http-requests',
  },
  {
    flags: '--region <name|auto>',
    description: 'Azure region for client credentials [env: MSAL_TS_REGION]',
    only: 'app-tokens',
  },
  {
    flags: '--capability <cap>',
    description: 'client capability, e.g. CP1 (repeatable)',
    only: 'http-requests',
    repeatable: true,
  },
  {
    flags: '--exclude-scope <scope>',
    description: 'scope to leave out, e.g. offline_access (repeatable)',
    only: 'http-requests',
    repeatable: true,
  },
  {
    flags: '--cache-file <path>',
    description: 'token cache file (MSAL unified schema) [env: MSAL_TS_CACHE_FILE]',
  },
  {
    flags: '--cache-dir <dir>',
    description: 'directory of the default token and HTTP caches [env: MSAL_TS_CACHE_DIR]',
  },
  {
    flags: '--cache-url <url>',
    description:
      'share the token cache through Redis: redis[s]://[user@]host[:port][/db]; password from MSAL_TS_REDIS_PASSWORD or REDISCLI_AUTH [env: MSAL_TS_CACHE_URL]',
    only: 'token-cache',
  },
  { flags: '--no-cache', description: 'keep tokens in memory only', only: 'http-requests' },
  {
    flags: '--proxy <url>',
    description: 'HTTP(S) proxy [env: HTTPS_PROXY, HTTP_PROXY, NO_PROXY]',
    only: 'http-requests',
  },
  {
    flags: '--ca-file <pem>',
    description:
      'extra trusted CA certificates [env: MSAL_TS_CA_FILE; below the profile: SSL_CERT_FILE, NODE_EXTRA_CA_CERTS]',
  },
  {
    flags: '--insecure',
    description: 'do not verify TLS certificates (prints a warning every run)',
  },
  {
    flags: '--timeout <seconds>',
    description: 'per HTTP request (default: 30) [env: MSAL_TS_TIMEOUT]',
  },
  {
    flags: '--app-name <name>',
    description: 'app name telemetry header',
    only: 'http-requests',
  },
  {
    flags: '--app-version <version>',
    description: 'app version telemetry header',
    only: 'http-requests',
  },
  { flags: '--profile <name>', description: 'named set of defaults [env: MSAL_TS_PROFILE]' },
  {
    flags: '-v, --verbose',
    description: 'log what happens to stderr (debug level), with stack traces on errors',
  },
  {
    flags: '--log-level <level>',
    description: 'log level [env: MSAL_TS_LOG_LEVEL]',
    choices: ['error', 'warn', 'info', 'debug'],
  },
  { flags: '--pii', description: 'allow tokens, secrets, codes and user names in log lines' },
  { flags: '--no-color', description: 'no colour [env: NO_COLOR]' },
] as const satisfies readonly OptionDeclaration[]

/** `-o` of the commands whose output is the token itself; raw unless asked (or a profile says). */
export const tokenOutputDeclaration = {
  flags: '-o, --output <format>',
  description: 'output format',
  choices: tokenFormats,
  default: 'raw',
} as const satisfies OptionDeclaration

/** The shared options a command lists, in the order its help shows them. */
export function commonOptionsFor(requests: TokenRequests): OptionDeclaration[] {
  return commonOptions.filter(
    (option: OptionDeclaration) => option.only === undefined || listedFor[option.only](requests),
  )
}

/** The long name without dashes, and whether it is a `--no-` option. */
export function longName(flags: string): { name: string; negated: boolean } {
  const name = /--([\w-]+)/.exec(flags)?.[1] ?? ''
  return name.startsWith('no-') ? { name: name.slice(3), negated: true } : { name, negated: false }
}

/** The key commander stores an option's value under: `--client-id` -> clientId, `--no-cache` -> cache. */
export function attributeName(flags: string): string {
  return longName(flags).name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())
}

type LongName<F extends string> = F extends `${string}--${infer Rest}`
  ? Rest extends `${infer Name} ${string}`
    ? Name
    : Rest
  : never
type Camel<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<Camel<Tail>>}`
  : S
type KeyOf<F extends string> =
  LongName<F> extends `no-${infer Rest}` ? Camel<Rest> : Camel<LongName<F>>
type ValueOf<D extends OptionDeclaration> = D extends { repeatable: true }
  ? string[]
  : D['flags'] extends `${string}<${string}`
    ? D extends { choices: readonly (infer Choice)[] }
      ? Choice
      : string
    : boolean
/** Options that always have a value where listed: a default, an empty list, or true for `--no-`. */
type Always<D extends OptionDeclaration> = D extends { only: ListedFor }
  ? never
  : D extends { default: string } | { repeatable: true }
    ? D
    : LongName<D['flags']> extends `no-${string}`
      ? D
      : never

/** Options as commander parses them, derived from their declarations, never restated. */
export type FlagsOf<T extends readonly OptionDeclaration[]> = Present<Always<T[number]>> &
  Partial<Present<Exclude<T[number], Always<T[number]>>>>
// A key-remapped type over no declarations at all would be an index signature of never.
type Present<D extends OptionDeclaration> = [D] extends [never]
  ? unknown
  : { [E in D as KeyOf<E['flags']>]: ValueOf<E> }

/** The shared options as commander parses them. */
export type CommonFlags = FlagsOf<typeof commonOptions>
