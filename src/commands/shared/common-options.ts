import { type Command, Option } from 'commander'
import { authorityBuilder, cloudHost, defaultAuthority } from '../../core/authority.js'
import { UsageError } from '../../core/errors.js'
import type { Io } from './io.js'

/** The options every command takes (cli.md), as commander parsed them. */
export interface CommonFlags {
  clientId?: string
  authority?: string
  tenant?: string
  cloud?: string
  oidcAuthority?: string
  validateAuthority: boolean
  instanceDiscovery: boolean
  region?: string
  capability: string[]
  excludeScope: string[]
  cacheFile?: string
  cacheDir?: string
  cache: boolean
  proxy?: string
  caFile?: string
  insecure?: boolean
  timeout?: string
  appName?: string
  appVersion?: string
  profile?: string
  verbose?: boolean
  logLevel?: string
  pii?: boolean
  color: boolean
}

/** Common options after flag > environment > default. */
export interface CommonSettings {
  clientId: string
  authority?: string
  oidcAuthority?: string
  validateAuthority: boolean
  /** false, true, or a custom instance discovery endpoint (MSAL_TS_INSTANCE_DISCOVERY_URL). */
  instanceDiscovery: boolean | string
  region?: string
  capabilities: string[]
  excludeScopes: string[]
  cacheFile?: string
  cacheDir?: string
  noCache: boolean
  proxy?: string
  caFile?: string
  insecure: boolean
  timeoutSeconds: number
  appName?: string
  appVersion?: string
  logLevel: LogLevel
  pii: boolean
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'

const collect = (value: string, previous: string[]) => [...previous, value]

export function addCommonOptions(command: Command): Command {
  return command
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
    .option('--no-validate-authority', 'trust the authority without instance discovery')
    .option('--no-instance-discovery', 'skip instance discovery and alias metadata')
    .option('--region <name|auto>', 'Azure region for client credentials [env: MSAL_TS_REGION]')
    .option('--capability <cap>', 'client capability, e.g. CP1 (repeatable)', collect, [])
    .option(
      '--exclude-scope <scope>',
      'scope to leave out, e.g. offline_access (repeatable)',
      collect,
      [],
    )
    .option(
      '--cache-file <path>',
      'token cache file (MSAL unified schema) [env: MSAL_TS_CACHE_FILE]',
    )
    .option(
      '--cache-dir <dir>',
      'directory of the default token and HTTP caches [env: MSAL_TS_CACHE_DIR]',
    )
    .option('--no-cache', 'keep tokens in memory only')
    .option('--proxy <url>', 'HTTP(S) proxy [env: HTTPS_PROXY, HTTP_PROXY, NO_PROXY]')
    .option(
      '--ca-file <pem>',
      'extra trusted CA certificates [env: NODE_EXTRA_CA_CERTS, SSL_CERT_FILE]',
    )
    .option('--insecure', 'do not verify TLS certificates (prints a warning every run)')
    .option('--timeout <seconds>', 'per HTTP request (default: 30) [env: MSAL_TS_TIMEOUT]')
    .option('--app-name <name>', 'app name telemetry header')
    .option('--app-version <version>', 'app version telemetry header')
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

/** Resolves flag > environment > default for the common options. */
export function resolveCommon(flags: CommonFlags, io: Io): CommonSettings {
  const env = io.env
  const clientId = flags.clientId ?? env['MSAL_TS_CLIENT_ID'] ?? env['AZURE_CLIENT_ID']
  if (!clientId?.trim()) {
    throw new UsageError(
      'missing_client_id',
      'a client id is required: pass --client-id or set MSAL_TS_CLIENT_ID / AZURE_CLIENT_ID',
    )
  }
  const oidcAuthority = flags.oidcAuthority ?? env['MSAL_TS_OIDC_AUTHORITY']
  const authority = oidcAuthority ? undefined : resolveAuthority(flags, env)
  const customDiscovery = env['MSAL_TS_INSTANCE_DISCOVERY_URL']?.trim()
  const logLevel = (
    flags.verbose ? 'debug' : (flags.logLevel ?? env['MSAL_TS_LOG_LEVEL'] ?? 'warn')
  ) as LogLevel
  if (!['error', 'warn', 'info', 'debug'].includes(logLevel)) {
    throw new UsageError(
      'invalid_log_level',
      `MSAL_TS_LOG_LEVEL must be error, warn, info or debug, not ${JSON.stringify(logLevel)}`,
    )
  }
  return {
    clientId: clientId.trim(),
    ...optional('authority', authority),
    ...optional('oidcAuthority', oidcAuthority),
    validateAuthority: flags.validateAuthority,
    instanceDiscovery: !flags.instanceDiscovery ? false : customDiscovery || true,
    ...optional('region', flags.region ?? env['MSAL_TS_REGION']),
    capabilities: flags.capability,
    excludeScopes: flags.excludeScope,
    ...optional('cacheFile', flags.cacheFile ?? env['MSAL_TS_CACHE_FILE']),
    ...optional('cacheDir', flags.cacheDir ?? env['MSAL_TS_CACHE_DIR']),
    noCache: !flags.cache,
    ...optional('proxy', flags.proxy),
    ...optional('caFile', flags.caFile ?? env['NODE_EXTRA_CA_CERTS'] ?? env['SSL_CERT_FILE']),
    insecure: flags.insecure === true,
    timeoutSeconds: parseTimeout(flags.timeout ?? env['MSAL_TS_TIMEOUT']),
    ...optional('appName', flags.appName),
    ...optional('appVersion', flags.appVersion),
    logLevel,
    pii: flags.pii === true,
  }
}

/** `--authority`, else `--tenant` on `--cloud`, else MSAL_TS_AUTHORITY, else AZURE_TENANT_ID on the cloud host. */
function resolveAuthority(flags: CommonFlags, env: NodeJS.ProcessEnv): string | undefined {
  const cloud = cloudHost(flags.cloud ?? env['AZURE_AUTHORITY_HOST'] ?? 'public')
  if (flags.authority) {
    return flags.authority
  }
  if (flags.tenant) {
    return authorityBuilder(cloud, flags.tenant)
  }
  if (env['MSAL_TS_AUTHORITY']) {
    return env['MSAL_TS_AUTHORITY']
  }
  if (env['AZURE_TENANT_ID']) {
    return authorityBuilder(cloud, env['AZURE_TENANT_ID'])
  }
  if (flags.cloud ?? env['AZURE_AUTHORITY_HOST']) {
    return authorityBuilder(cloud, 'common')
  }
  return undefined
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) {
    return 30
  }
  const seconds = Number(text)
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(
      'invalid_timeout',
      `the timeout must be a positive number of seconds, not ${JSON.stringify(text)}`,
    )
  }
  return seconds
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {}
}
