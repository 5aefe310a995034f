import { authorityBuilder, cloudHost } from '../../core/authority.js'
import { UsageError } from '../../core/errors.js'
import { type Io, warn } from './io.js'

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

/** Resolves flag > environment > default for the common options. */
export function resolveCommon(flags: CommonFlags, io: Io): CommonSettings {
  const env = io.env
  const profile = flags.profile ?? env['MSAL_TS_PROFILE']
  if (profile) {
    // Said plainly rather than ignored in silence: a profile's defaults would change the outcome.
    warn(io, `profiles are not available yet; ignoring the profile ${JSON.stringify(profile)}`)
  }
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
