import { type Command, Option } from 'commander'
import { defaultAuthority } from '../../core/authority/authority.js'
import { tokenFormats } from './output.js'

const collect = (value: string, previous: string[]) => [...previous, value]

/** `-o` of the commands whose output is the token itself; raw unless asked (or a profile says). */
export function tokenOutputOption(): Option {
  return new Option('-o, --output <format>', 'output format').choices(tokenFormats).default('raw')
}

/**
 * What a command asks the identity provider for, which decides the options it lists (cli.md: a
 * command lists only options that change what it does): the cache-only commands send no HTTP
 * request, so they take no discovery, proxy or telemetry option (TLS and timeout options stay:
 * they act on a rediss:// cache); capabilities and excluded scopes for every token request, a
 * region for app tokens. An authorization URL is a user-token request that caches no token, so
 * it takes no Redis cache.
 */
export type TokenRequests = 'none' | 'authorization-url' | 'user-tokens' | 'app-tokens'

export function addCommonOptions(
  command: Command,
  { requests }: { requests: TokenRequests },
): Command {
  addAuthorityOptions(command)
  if (requests !== 'none') {
    addDiscoveryOptions(command)
    addTokenRequestOptions(command, { requests })
  }
  addCacheOptions(command, { tokens: requests !== 'authorization-url' })
  addTransportOptions(command, { http: requests !== 'none' })
  return addOutputOptions(command)
}

function addAuthorityOptions(command: Command): void {
  command
    .option(
      '-c, --client-id <id>',
      'application (client) id [env: MSAL_TS_CLIENT_ID, AZURE_CLIENT_ID]',
    )
    .option(
      '-a, --authority <url>',
      `authority URL (default: ${defaultAuthority}) [env: MSAL_TS_AUTHORITY]`,
    )
    .option(
      '-t, --tenant <id>',
      'tenant id or domain: authority = <cloud host>/<tenant> [env: AZURE_TENANT_ID]',
    )
    .option(
      '--cloud <cloud>',
      'public, usgov, china, or an authority host URL [env: AZURE_AUTHORITY_HOST]',
    )
    .option(
      '--oidc-authority <url>',
      'any OpenID provider (metadata at <url>/.well-known/openid-configuration) [env: MSAL_TS_OIDC_AUTHORITY]',
    )
}

function addDiscoveryOptions(command: Command): void {
  command
    .option('--no-validate-authority', 'trust the authority without instance discovery')
    .option('--no-instance-discovery', 'skip instance discovery and alias metadata')
}

function addTokenRequestOptions(
  command: Command,
  { requests }: { requests: Exclude<TokenRequests, 'none'> },
): void {
  if (requests === 'app-tokens') {
    command.option(
      '--region <name|auto>',
      'Azure region for client credentials [env: MSAL_TS_REGION]',
    )
  }
  command
    .option('--capability <cap>', 'client capability, e.g. CP1 (repeatable)', collect, [])
    .option(
      '--exclude-scope <scope>',
      'scope to leave out, e.g. offline_access (repeatable)',
      collect,
      [],
    )
}

/** The token cache file decides where the discovery cache lives too; Redis holds tokens only. */
function addCacheOptions(command: Command, { tokens }: { tokens: boolean }): void {
  command
    .option(
      '--cache-file <path>',
      'token cache file (MSAL unified schema) [env: MSAL_TS_CACHE_FILE]',
    )
    .option(
      '--cache-dir <dir>',
      'directory of the default token and HTTP caches [env: MSAL_TS_CACHE_DIR]',
    )
  if (tokens) {
    command.option(
      '--cache-url <url>',
      'share the token cache through Redis: redis[s]://[user@]host[:port][/db]; password from MSAL_TS_REDIS_PASSWORD or REDISCLI_AUTH [env: MSAL_TS_CACHE_URL]',
    )
  }
  command.option('--no-cache', 'keep tokens in memory only')
}

function addTransportOptions(command: Command, { http }: { http: boolean }): void {
  if (http) {
    command.option('--proxy <url>', 'HTTP(S) proxy [env: HTTPS_PROXY, HTTP_PROXY, NO_PROXY]')
  }
  command
    .option(
      '--ca-file <pem>',
      'extra trusted CA certificates [env: MSAL_TS_CA_FILE; below the profile: SSL_CERT_FILE, NODE_EXTRA_CA_CERTS]',
    )
    .option('--insecure', 'do not verify TLS certificates (prints a warning every run)')
    .option('--timeout <seconds>', 'per HTTP request (default: 30) [env: MSAL_TS_TIMEOUT]')
  if (http) {
    command
      .option('--app-name <name>', 'app name telemetry header')
      .option('--app-version <version>', 'app version telemetry header')
  }
}

function addOutputOptions(command: Command): Command {
  return command
    .option('--profile <name>', 'named set of defaults [env: MSAL_TS_PROFILE]')
    .option(
      '-v, --verbose',
      'log what happens to stderr (debug level), with stack traces on errors',
    )
    .addOption(
      new Option('--log-level <level>', 'log level [env: MSAL_TS_LOG_LEVEL]').choices([
        'error',
        'warn',
        'info',
        'debug',
      ]),
    )
    .option('--pii', 'allow tokens, secrets, codes and user names in log lines')
    .option('--no-color', 'no colour [env: NO_COLOR]')
}
