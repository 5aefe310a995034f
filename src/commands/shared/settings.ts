import {
  type Authority,
  authorityBuilder,
  cloudHost,
  defaultAuthority,
  parseAuthority,
  takesRegion,
} from '../../core/authority/authority.js'
import { readCaFile } from '../../core/http/ca-file.js'
import { isSafeUrl } from '../../core/http/endpoint-url.js'
import { UsageError } from '../../core/kernel/errors.js'
import { quoted } from '../../core/kernel/quoted.js'
import { controlCharacter } from '../../core/kernel/control-characters.js'
import {
  headerValueProblem,
  proxyShown,
  proxyUrlProblem,
  timeoutProblem,
} from '../../core/session/option-checks.js'
import type { CommonFlags } from './common-option-table.js'
import type { RedisTarget } from '../../core/storage/redis-store.js'
import { parseCacheUrl, urlHasPassword } from './cache-url.js'
import { type Io, warn } from './io.js'
import {
  type ProfileLayer,
  defaultProfile,
  fromProfile,
  holderOf,
  profileStack,
  profileValueWords,
} from './profile.js'
import { SuggestedUsageError, checkAuthorityScheme } from './suggestion.js'

/** The options every command takes (cli.md), as commander parsed them. */
export type { CommonFlags } from './common-option-table.js'

/** Common options after option > environment > profile > default. */
export interface CommonSettings {
  clientId: string
  authority?: string
  oidcAuthority?: string
  /** Where the authority came from when no option gave it, for error messages. */
  authoritySource?: string
  validateAuthority: boolean
  /** false, true, or a custom instance discovery endpoint (MSAL_TS_INSTANCE_DISCOVERY_URL). */
  instanceDiscovery: boolean | string
  region?: string
  /** Where region came from, for error messages: `--region`, `MSAL_TS_REGION` or a profile's. */
  regionSource?: string
  capabilities: string[]
  excludeScopes: string[]
  cacheFile?: string
  cacheDir?: string
  /** A Redis server holding the token cache, shared across machines; the file cache stays beside it. */
  cacheUrl?: RedisTarget
  noCache: boolean
  proxy?: string
  caFile?: string
  /** Where caFile came from, for error messages: `--ca-file`, `profile default`, `SSL_CERT_FILE`, ... */
  caSource?: string
  insecure: boolean
  timeoutSeconds: number
  appName?: string
  appVersion?: string
  logLevel: LogLevel
  pii: boolean
  /** The profile's token output format, for commands whose -o was left at its default. */
  output?: string
}

export const logLevels = ['error', 'warn', 'info', 'debug'] as const
export type LogLevel = (typeof logLevels)[number]

/**
 * Resolves the common options, each from the first layer that sets it:
 * option > environment > profile (`--profile`/MSAL_TS_PROFILE over the default profile) > default.
 */
export function resolveCommon(flags: CommonFlags, io: Io): CommonSettings {
  refuseEmptyValues(flags)
  const env = io.env
  const profileName = flags.profile ?? env['MSAL_TS_PROFILE']
  const [namedProfile, fallbackProfile] = profileStack(profileName, env)
  const profile = { ...fallbackProfile, ...namedProfile }
  const layer: ProfileLayer = { profile, profileName, named: namedProfile }
  // An empty variable is an unset one, as for the other variables: it does not hide the next.
  const clientId =
    flags.clientId ??
    (env['MSAL_TS_CLIENT_ID'] || env['AZURE_CLIENT_ID'] || undefined) ??
    profile['client-id']
  if (!clientId?.trim()) {
    throw new UsageError(
      'missing_client_id',
      'a client id is required: pass --client-id, set MSAL_TS_CLIENT_ID / AZURE_CLIENT_ID, or msal-ts config set client-id <id>',
    )
  }
  refuseConflictingAuthorities(flags)
  if (env['MSAL_TS_OIDC_AUTHORITY'] && env['MSAL_TS_AUTHORITY']) {
    // As the two options are: one of them would be dropped without a word.
    throw new UsageError(
      'conflicting_options',
      'MSAL_TS_OIDC_AUTHORITY and MSAL_TS_AUTHORITY cannot both be set: an OpenID provider is an authority of its own',
    )
  }
  refuseCaFileWhenInsecure(flags)
  const { authority, oidcAuthority, authoritySource } = resolveAuthority(flags, env, [
    { name: profileName, values: namedProfile },
    { name: defaultProfile, values: fallbackProfile },
  ])
  namingSource(authoritySource, () => checkAuthorityScheme(authority ?? oidcAuthority))
  const logLevel = logLevelSetting(flags, env, layer)
  return {
    clientId: clientId.trim(),
    ...optional('authority', authority),
    ...optional('oidcAuthority', oidcAuthority),
    ...optional('authoritySource', authoritySource),
    validateAuthority: flags.validateAuthority !== false,
    instanceDiscovery:
      flags.instanceDiscovery === false ? false : instanceDiscoveryUrl(env) || true,
    ...regionSetting(flags.region, env, { ...layer, authority, oidcAuthority }),
    capabilities: flags.capability ?? [],
    excludeScopes: flags.excludeScope ?? [],
    ...cacheSettings(flags, io, layer),
    ...optional('proxy', proxySetting(flags.proxy, env, layer)),
    ...caSetting(flags, env, layer),
    insecure: flags.insecure === true,
    timeoutSeconds: timeoutSetting(flags.timeout, env, layer),
    ...optional('appName', headerText('--app-name', flags.appName)),
    ...optional('appVersion', headerText('--app-version', flags.appVersion)),
    logLevel,
    pii: flags.pii === true,
    ...optional('output', profile['output']),
  }
}

/**
 * Options that, given an empty value (`--cache-file=`, an unset variable in a script), would
 * silently fall back to the next layer: another cache, authority, trust or profile than the one meant.
 */
const emptyNotAllowed = [
  ['authority', '--authority'],
  ['oidcAuthority', '--oidc-authority'],
  ['tenant', '--tenant'],
  ['cloud', '--cloud'],
  ['cacheFile', '--cache-file'],
  ['cacheDir', '--cache-dir'],
  ['caFile', '--ca-file'],
  ['profile', '--profile'],
] as const satisfies readonly (readonly [keyof CommonFlags, string])[]

/**
 * Repeatable options whose values are names (a capability, a scope): an empty one names nothing,
 * and one with a blank or control character in it is two names or none. The engine refuses both,
 * by its own option's name.
 */
const namesOnly = [
  ['capability', '--capability'],
  ['excludeScope', '--exclude-scope'],
] as const satisfies readonly (readonly [keyof CommonFlags, string])[]

function refuseEmptyValues(flags: CommonFlags): void {
  const empty =
    emptyNotAllowed.find(([key]) => flags[key]?.trim() === '') ??
    namesOnly.find(([key]) => flags[key]?.some((value) => value.trim() === ''))
  if (empty !== undefined) {
    throw new UsageError('invalid_option', `${empty[1]} takes a value, not an empty one`)
  }
  for (const [key, option] of namesOnly) {
    const bad = flags[key]?.find((value) => /\s/.test(value) || controlCharacter.test(value))
    if (bad !== undefined) {
      throw new UsageError(
        'invalid_option',
        `${option} takes one name, without blanks or control characters, not ${quoted(bad)}`,
      )
    }
  }
}

/**
 * The authority from the first layer that names one (an OIDC authority, an authority URL or a
 * tenant, in that order within a layer), a tenant going on the cloud from the first layer that names one.
 */
function resolveAuthority(
  flags: CommonFlags,
  env: NodeJS.ProcessEnv,
  profiles: readonly { name: string | undefined; values: Record<string, string> }[],
): { authority?: string; oidcAuthority?: string; authoritySource?: string } {
  const fromProfileOf = (name: string | undefined, key: string) =>
    profileValueWords(key, name ?? defaultProfile)
  const clouds: [string | undefined, string | undefined][] = [
    [flags.cloud, undefined],
    [env['AZURE_AUTHORITY_HOST'], 'AZURE_AUTHORITY_HOST'],
    ...profiles.map(({ name, values }): [string | undefined, string] => [
      values['cloud'],
      fromProfileOf(name, 'cloud'),
    ]),
  ]
  const cloudLayer = clouds.findIndex(([name]) => name)
  const [cloudName, cloudSource] = clouds[cloudLayer] ?? []
  const cloud = cloudHost(cloudName ?? 'public')
  // The named profile and the default one are layers of their own: a tenant the named profile
  // gives is not lost to an authority URL the default profile names, nor sent to its provider.
  type Setting = [value: string | undefined, source: string | undefined]
  const layers: [oidcAuthority: Setting, authority: Setting, tenant: Setting][] = [
    [
      [flags.oidcAuthority, undefined],
      [flags.authority, undefined],
      [flags.tenant, undefined],
    ],
    [
      [env['MSAL_TS_OIDC_AUTHORITY'], 'MSAL_TS_OIDC_AUTHORITY'],
      [env['MSAL_TS_AUTHORITY'], 'MSAL_TS_AUTHORITY'],
      [env['AZURE_TENANT_ID'], 'AZURE_TENANT_ID'],
    ],
    ...profiles.map(({ name, values }): [Setting, Setting, Setting] => [
      [values['oidc-authority'], fromProfileOf(name, 'oidc-authority')],
      [values['authority'], fromProfileOf(name, 'authority')],
      [values['tenant'], fromProfileOf(name, 'tenant')],
    ]),
  ]
  const environmentLayer = 1
  const firstProfileLayer = 2
  const onCloud = ([tenant, source]: Setting, [host, hostSource] = [cloud, cloudSource]) => ({
    authority: authorityBuilder(
      host,
      namingSource(source, () => checkedTenant(tenant ?? 'common')),
    ),
    ...optional('authoritySource', hostSource),
  })
  if (flags.cloud !== undefined) {
    // --cloud (never given with -a or --oidc-authority) beats the authorities of the environment
    // and the profile as any option does, on the first tenant named, or the tenant of the first
    // authority URL named: moving clouds keeps the tenant.
    const inEffect = layers.findIndex(([, [a], [t]]) => a || t)
    const none: Setting = [undefined, undefined]
    const [, given, tenantSetting] = layers[inEffect] ?? [none, none, none]
    if (inEffect >= firstProfileLayer) {
      refuseTwoTenants(given, tenantSetting)
    }
    // MSAL_TS_AUTHORITY's tenant beats AZURE_TENANT_ID, as the URL itself does without --cloud.
    return onCloud(given[0] ? [tenantOf(given[0]), given[1]] : tenantSetting)
  }
  for (const [layer, [[oidcAuthority, oidcSource], given, tenant]] of layers.entries()) {
    if (oidcAuthority) {
      // AZURE_TENANT_ID is the Azure SDK's too, and may be set for other tools beside it.
      const beside =
        layer >= firstProfileLayer ? [given, tenant].find(([value]) => value) : undefined
      if (beside !== undefined) {
        throw new UsageError(
          'conflicting_options',
          `${beside[1] ?? 'a tenant'} cannot act beside ${oidcSource ?? 'an OpenID provider'}: unset one of them`,
        )
      }
      return { oidcAuthority, ...optional('authoritySource', oidcSource) }
    }
    const [authority, authoritySource] = given
    if (authority) {
      // MSAL_TS_AUTHORITY beats AZURE_TENANT_ID, which the Azure SDK's tools read too.
      if (layer >= firstProfileLayer) {
        refuseTwoTenants(given, tenant)
      }
      // A cloud set nearer the run (AZURE_AUTHORITY_HOST over a profile's authority, a named
      // profile's over the default one's) moves the authority there, as --cloud does.
      // Only an Entra URL has a cloud to move: B2C's and ADFS's hosts are their own.
      if (cloudLayer >= 0 && cloudLayer < layer && entraOrigin(authority) !== undefined) {
        return onCloud([tenantOf(authority), authoritySource])
      }
      return { authority, ...optional('authoritySource', authoritySource) }
    }
    if (tenant[0]) {
      // AZURE_TENANT_ID, exported for the Azure SDK's tools, does not make a profile's OpenID
      // provider (the one in effect without it) an Entra tenant, nor send it that client secret.
      const next = layers.find(([[o], [a], [t]], index) => index > layer && (o || a || t))
      if (layer === environmentLayer && next?.[0][0]) {
        continue
      }
      const fartherIndex = layers.findIndex(
        ([[farOidc], [farAuthority]], index) => index > layer && (farOidc || farAuthority),
      )
      const [, [fartherAuthority, fartherSource]] = layers[fartherIndex] ?? [[], []]
      // A tenant set nearer than an Entra authority URL keeps that URL's cloud (a sovereign one),
      // as a cloud set nearer keeps the URL's tenant.
      const origin = entraOrigin(fartherAuthority)
      // A cloud beside that URL in its own layer does not act on it (config set refuses the pair).
      if (origin !== undefined && (cloudLayer < 0 || cloudLayer >= fartherIndex)) {
        return onCloud(tenant, [origin, fartherSource])
      }
      return onCloud(tenant)
    }
  }
  return cloudName ? onCloud([undefined, undefined]) : {}
}

/**
 * Where an Entra authority URL signs in (its cloud), or undefined for any other: a URL that is not
 * the one in effect is not checked, so a broken one yields no cloud rather than an error.
 */
function entraOrigin(authority: string | undefined): string | undefined {
  try {
    const parsed = authority === undefined ? undefined : parseAuthority(authority)
    return parsed?.kind === 'aad' ? new URL(parsed.url).origin : undefined
  } catch {
    return undefined
  }
}

/**
 * An authority URL and a tenant of one layer (MSAL_TS_AUTHORITY and AZURE_TENANT_ID, or one
 * profile's) that disagree: the tenant would be dropped. The options refuse -a with -t outright.
 */
function refuseTwoTenants(
  [authority, authoritySource]: [string | undefined, string | undefined],
  [tenant, tenantSource]: [string | undefined, string | undefined],
): void {
  const named = tenantOf(authority)
  if (!tenant || authoritySource === undefined || named === undefined) {
    return
  }
  if (
    named.toLowerCase() !== namingSource(tenantSource, () => checkedTenant(tenant)).toLowerCase()
  ) {
    throw new UsageError(
      'conflicting_options',
      `${authoritySource} names the tenant ${quoted(named)} and ${tenantSource ?? 'the tenant'} ${quoted(tenant)}: unset one of them`,
    )
  }
}

/** What fails on a setting that no option gave is said with where it came from. */
function namingSource<T>(source: string | undefined, use: () => T): T {
  try {
    return use()
  } catch (error) {
    if (source === undefined || !(error instanceof UsageError)) {
      throw error
    }
    const named = `${error.message} (from ${source})`
    throw error instanceof SuggestedUsageError
      ? new SuggestedUsageError(error.code, named, error.suggestion)
      : new UsageError(error.code, named)
  }
}

/**
 * A tenant goes into the authority's path as one segment: `a/b?c` would name another path (and
 * query) than the tenant meant, and a control character would reach the wire.
 */
export function checkedTenant(tenant: string): string {
  // Slashes around it were always taken off (`contoso.com/`), as blanks a copy and paste leaves.
  const name = tenant.trim().replace(/^\/+|\/+$/g, '')
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new UsageError(
      'invalid_tenant',
      `the tenant ${quoted(tenant)} is not a tenant id or domain (letters, digits, '.', '-' and '_')`,
    )
  }
  return name
}

/** The first path segment of an authority URL: its tenant. */
function tenantOf(authority: string | undefined): string | undefined {
  return authority !== undefined && URL.canParse(authority)
    ? new URL(authority).pathname.split('/').find(Boolean)
    : undefined
}

/**
 * Pairs of authority options that cannot both take effect (with the reason): -t with --cloud
 * combines into one authority, these would leave one of the two silently dropped.
 */
const conflictingAuthorityOptions: readonly {
  options: readonly [keyof CommonFlags, keyof CommonFlags]
  names: string
  reason: string
}[] = [
  ...(['authority', 'tenant', 'cloud'] as const).map((other) => ({
    options: ['oidcAuthority', other] as const,
    names: `--oidc-authority and --${other}`,
    reason: 'an OpenID provider is an authority of its own',
  })),
  ...(['tenant', 'cloud'] as const).map((other) => ({
    options: ['authority', other] as const,
    names: `--authority and --${other}`,
    reason: 'an authority URL already names its cloud host and tenant',
  })),
]

/**
 * Only options given together conflict: an option beating the environment or a profile is the
 * documented precedence.
 */
function refuseConflictingAuthorities(flags: CommonFlags): void {
  const conflict = conflictingAuthorityOptions.find(({ options }) =>
    options.every((key) => flags[key] !== undefined),
  )
  if (conflict !== undefined) {
    throw new UsageError(
      'conflicting_options',
      `${conflict.names} cannot be used together: ${conflict.reason}`,
    )
  }
}

/** --insecure trusts any certificate, so a --ca-file beside it could not act. */
export function refuseCaFileWhenInsecure(flags: Pick<CommonFlags, 'caFile' | 'insecure'>): void {
  if (flags.caFile !== undefined && flags.insecure === true) {
    throw new UsageError(
      'conflicting_options',
      '--ca-file and --insecure cannot be used together: --insecure trusts any certificate',
    )
  }
}

/** The CA file in effect and where it came from. */
export interface CaSetting {
  caFile?: string
  caSource?: string
}

/**
 * msal-ts's own CA settings (option, MSAL_TS_CA_FILE, profile) beat the machine-wide variables
 * (cli.md): a profile made for one identity provider must not lose to a bundle set for everything.
 * A file of msal-ts's own is passed to TLS as the whole trust list beside Node's built-in CAs,
 * which also keeps NODE_EXTRA_CA_CERTS (added by Node itself at start-up) out of it.
 */
export function caSetting(
  flags: Pick<CommonFlags, 'caFile'>,
  env: NodeJS.ProcessEnv,
  layer: ProfileLayer,
): CaSetting {
  const layers: [string | undefined, () => string][] = [
    [flags.caFile, () => '--ca-file'],
    [env['MSAL_TS_CA_FILE'], () => 'MSAL_TS_CA_FILE'],
    [layer.profile['ca-file'], () => `profile ${holderOf('ca-file', layer)}`],
    [env['SSL_CERT_FILE'], () => 'SSL_CERT_FILE'],
    [env['NODE_EXTRA_CA_CERTS'], () => 'NODE_EXTRA_CA_CERTS'],
  ]
  const [caFile, source] = layers.find(([value]) => value) ?? []
  return caFile && source ? { caFile, caSource: source() } : {}
}

/** The CA variables every TLS client on the machine reads: a run that sends no request leaves them be. */
const machineWideCaSources = new Set(['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS'])

/**
 * A CA file of msal-ts's own settings (--ca-file, MSAL_TS_CA_FILE, a profile) is checked before
 * anything else, as other bad input is: a missing or broken one would otherwise pass while the
 * cache answers and fail at the first refresh, and `token` with no one signed in would be exit 3.
 * Where a request is certain (`requestCertain`), a machine-wide one is checked up front too.
 * Returns the certificates when it read them, so that the run need not read and check them again.
 */
export function checkOwnCaFile(
  settings: Pick<CommonSettings, 'caFile' | 'caSource' | 'insecure'>,
  { requestCertain = false }: { requestCertain?: boolean } = {},
): string | undefined {
  if (
    settings.caFile !== undefined &&
    !settings.insecure &&
    (requestCertain || !machineWideCaSources.has(settings.caSource ?? ''))
  ) {
    // A path from a variable or a profile is named with where it was set, which the command line
    // does not show.
    return readCaFile(
      settings.caFile,
      settings.caSource === '--ca-file' ? undefined : settings.caSource,
    )
  }
  return undefined
}

/**
 * The cache-only commands keep --ca-file, --insecure and --timeout for a Redis cache: without one
 * they would act on nothing, so given on the command line they are refused. The same settings
 * from the environment or a profile are defaults for other commands too, and stay quiet here.
 */
export function refuseIdleRedisOptions(flags: CommonFlags, settings: CommonSettings): void {
  if (settings.cacheUrl !== undefined) {
    return
  }
  const given = [
    ['--ca-file', flags.caFile !== undefined],
    ['--insecure', flags.insecure === true],
    ['--timeout', flags.timeout !== undefined],
  ]
    .filter(([, isGiven]) => isGiven)
    .map(([name]) => name)
  if (given.length > 0) {
    throw new UsageError(
      'conflicting_options',
      `${given.join(', ')} cannot act without a Redis token cache (--cache-url or MSAL_TS_CACHE_URL)`,
    )
  }
}

/** MSAL_TS_INSTANCE_DISCOVERY_URL, checked as the library checks its instanceDiscovery URL. */
function instanceDiscoveryUrl(env: NodeJS.ProcessEnv): string | undefined {
  const url = env['MSAL_TS_INSTANCE_DISCOVERY_URL']?.trim()
  if (url && !isSafeUrl(url)) {
    throw new UsageError(
      'invalid_option',
      `MSAL_TS_INSTANCE_DISCOVERY_URL must be an https URL (http on loopback hosts only), not ${quoted(url)}`,
    )
  }
  return url
}

/**
 * A region from the environment or a profile is a default for the authorities that have regional
 * endpoints; with any other it is left out rather than refused, as --region would be.
 */
function regionSetting(
  option: string | undefined,
  env: NodeJS.ProcessEnv,
  layer: ProfileLayer & { authority?: string; oidcAuthority?: string },
): Pick<CommonSettings, 'region' | 'regionSource'> {
  if (option !== undefined) {
    return { region: option, regionSource: '--region' }
  }
  const fromEnv = env['MSAL_TS_REGION']
  const region = fromEnv ?? layer.profile['region']
  if (!region || layer.oidcAuthority) {
    return {}
  }
  if (!takesRegion(parseAuthority(layer.authority ?? defaultAuthority))) {
    return {}
  }
  const regionSource = fromEnv !== undefined ? 'MSAL_TS_REGION' : fromProfile('region', layer)
  return { region, regionSource }
}

/**
 * The proxy to pass on: the option's, else the profile's when the environment names none (the
 * environment's is applied by the HTTP layer). Checked here, before undici would throw a bare
 * "Invalid URL" at the first request; a profile's is checked too, as it may have been written by
 * hand or by a version that took what this one refuses.
 */
export function proxySetting(
  option: string | undefined,
  env: NodeJS.ProcessEnv,
  layer: ProfileLayer,
): string | undefined {
  const envProxy =
    env['HTTPS_PROXY'] ?? env['https_proxy'] ?? env['HTTP_PROXY'] ?? env['http_proxy']
  const proxy = option ?? (envProxy ? undefined : layer.profile['proxy'])
  const problem = proxy === undefined ? undefined : proxyUrlProblem(proxy)
  if (problem !== undefined) {
    const source = option === undefined ? fromProfile('proxy', layer) : '--proxy'
    throw new UsageError(
      'invalid_proxy',
      `${source} ${problem}, not ${quoted(proxyShown(proxy ?? ''))}`,
    )
  }
  return proxy
}

type CacheSettings = Pick<CommonSettings, 'cacheFile' | 'cacheDir' | 'cacheUrl' | 'noCache'>

/**
 * Where tokens are kept. With --no-cache nowhere: a cache option given beside it could not act and
 * is refused, while the environment's and a profile's are defaults for other runs, not even read.
 */
function cacheSettings(flags: CommonFlags, io: Io, layer: ProfileLayer): CacheSettings {
  if (flags.cache === false) {
    refuseCacheOptions(flags)
    return { noCache: true }
  }
  const env = io.env
  const { cacheFile, cacheDir } = cacheLocation([
    { file: flags.cacheFile, dir: flags.cacheDir, names: ['--cache-file', '--cache-dir'] },
    {
      file: env['MSAL_TS_CACHE_FILE'] || undefined,
      dir: env['MSAL_TS_CACHE_DIR'] || undefined,
      names: ['MSAL_TS_CACHE_FILE', 'MSAL_TS_CACHE_DIR'],
    },
    profileCacheLayer(layer),
  ])
  return {
    ...optional('cacheFile', cacheFile),
    ...optional('cacheDir', cacheDir),
    ...cacheUrl(flags, io, layer),
    noCache: false,
  }
}

interface CacheLocationLayer {
  file: string | undefined
  dir: string | undefined
  names: [string, string]
}

/**
 * The cache file, or the directory of the default one, from the first layer (options, then the
 * environment, then the profile) that names either: a layer below is a default the one above
 * replaces. A layer naming both is refused, as the directory could not act beside the file.
 */
function cacheLocation(layers: CacheLocationLayer[]): { cacheFile?: string; cacheDir?: string } {
  const layer = layers.find(({ file, dir }) => file !== undefined || dir !== undefined)
  if (layer?.file !== undefined && layer.dir !== undefined) {
    const [file, dir] = layer.names
    throw new UsageError(
      'conflicting_options',
      `${file} and ${dir} cannot be used together: ${file} names the cache file itself, ${dir} where the default one lives`,
    )
  }
  return {
    ...(layer?.file !== undefined ? { cacheFile: layer.file } : {}),
    ...(layer?.dir !== undefined ? { cacheDir: layer.dir } : {}),
  }
}

/** The profile's layer: a named profile's cache file or directory beats the default profile's. */
function profileCacheLayer(layer: ProfileLayer): CacheLocationLayer {
  let file = layer.profile['cache-file']
  let dir = layer.profile['cache-dir']
  let from = layer.profileName ?? defaultProfile
  if (file !== undefined && dir !== undefined) {
    from = holderOf('cache-file', layer)
    if (holderOf('cache-dir', layer) !== from) {
      file = from === layer.profileName ? file : undefined
      dir = from === layer.profileName ? undefined : dir
    }
  }
  return { file, dir, names: [`profile ${quoted(from)}'s cache-file`, 'cache-dir'] }
}

function refuseCacheOptions(flags: CommonFlags): void {
  const given = [
    ['--cache-file', flags.cacheFile],
    ['--cache-dir', flags.cacheDir],
    ['--cache-url', flags.cacheUrl],
  ]
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name)
  if (given.length > 0) {
    throw new UsageError(
      'conflicting_options',
      `--no-cache and ${given.join(', ')} cannot be used together: --no-cache keeps tokens in memory only`,
    )
  }
}

function cacheUrl(flags: CommonFlags, io: Io, layer: ProfileLayer): { cacheUrl?: RedisTarget } {
  const [text, source] =
    flags.cacheUrl !== undefined
      ? [flags.cacheUrl, '--cache-url']
      : io.env['MSAL_TS_CACHE_URL'] !== undefined
        ? [io.env['MSAL_TS_CACHE_URL'], 'MSAL_TS_CACHE_URL']
        : [layer.profile['cache-url'], undefined]
  if (!text) {
    return {}
  }
  const target = parseCacheUrl(text, io.env, source ?? fromProfile('cache-url', layer))
  if (flags.cacheUrl !== undefined && urlHasPassword(flags.cacheUrl)) {
    warn(
      io,
      '--cache-url carries a password visible to other users of this machine; put it in MSAL_TS_REDIS_PASSWORD or REDISCLI_AUTH',
    )
  }
  return { cacheUrl: target }
}

/** A value sent in a header: refused here rather than by Node at the first request. */
function headerText(option: string, value: string | undefined): string | undefined {
  const problem = value === undefined ? undefined : headerValueProblem(value)
  if (problem !== undefined) {
    throw new UsageError(
      `invalid_${option.slice(2).replace('-', '_')}`,
      `${option} ${problem}, not ${quoted(value)}`,
    )
  }
  return value
}

/** A layer below the command line: the profile a value came from, for messages about it. */

/** --timeout, else MSAL_TS_TIMEOUT, else the profile's; a bad one is named where it was set. */
export function timeoutSetting(
  option: string | undefined,
  env: NodeJS.ProcessEnv,
  layer: ProfileLayer,
): number {
  if (option !== undefined) {
    return parseTimeout(option, '--timeout')
  }
  if (env['MSAL_TS_TIMEOUT'] !== undefined) {
    return parseTimeout(env['MSAL_TS_TIMEOUT'], 'MSAL_TS_TIMEOUT')
  }
  const value = layer.profile['timeout']
  return value === undefined ? 30 : parseTimeout(value, fromProfile('timeout', layer))
}

/** -v, --log-level (commander checks its choices), MSAL_TS_LOG_LEVEL, the profile's, warn. */
export function logLevelSetting(
  flags: Pick<CommonFlags, 'verbose' | 'logLevel'>,
  env: NodeJS.ProcessEnv,
  layer: ProfileLayer,
): LogLevel {
  if (flags.verbose) {
    return 'debug'
  }
  const [value, source] =
    flags.logLevel !== undefined
      ? [flags.logLevel, '--log-level']
      : env['MSAL_TS_LOG_LEVEL'] !== undefined
        ? [env['MSAL_TS_LOG_LEVEL'], 'MSAL_TS_LOG_LEVEL']
        : [layer.profile['log-level'], undefined]
  if (value === undefined) {
    return 'warn'
  }
  if (!(logLevels as readonly string[]).includes(value)) {
    throw new UsageError(
      'invalid_log_level',
      `${source ?? fromProfile('log-level', layer)} must be error, warn, info or debug, not ${quoted(value)}`,
    )
  }
  return value as LogLevel
}

/** Seconds per HTTP request; `source` names where the text was given, for the error. */
export function parseTimeout(text: string, source = 'the timeout'): number {
  const seconds = Number(text)
  // Number() would also take hex, exponents and surrounding blanks: ` 5` or `0x10` is a typo more
  // often than a timeout.
  const problem = /^\d+(\.\d+)?$/.test(text)
    ? timeoutProblem(seconds)
    : 'must be a number of seconds in decimal digits, such as 30 or 0.5'
  if (problem !== undefined) {
    throw new UsageError('invalid_timeout', `${source} ${problem}, not ${quoted(text)}`)
  }
  return seconds
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {}
}

/** The authority the settings name, parsed and checked. */
export function settingsAuthority(settings: CommonSettings): Authority {
  const { oidcAuthority, authority } = settings
  return namingSource(settings.authoritySource, () =>
    oidcAuthority
      ? parseAuthority(oidcAuthority, { oidc: true })
      : parseAuthority(authority ?? defaultAuthority),
  )
}
