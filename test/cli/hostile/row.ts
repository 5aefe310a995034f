/**
 * The shape of a row of the hostile-provider table, the context it runs in, and the commands the
 * rows run: each row plants a hostile answer or file, runs one msal-ts command against it, and
 * states what the contract (cli.md "What comes from outside is untrusted", "Exit codes") demands.
 */
import { readFile } from 'node:fs/promises'
import type { Fault, Sts } from '../../fixtures/sts/index.js'
import type { CliResult } from '../harness.js'
import type { ScriptedServer } from './scripted-server.js'

export const userRead = 'https://graph.microsoft.com/User.Read'
export const appScope = 'api://hostile/.default'

export interface Ctx {
  sts: Sts
  /** IMDS and App Service stand-in. */
  mi: ScriptedServer
  home: string
  /** `--cache-file` of every command; a row may plant something else there. */
  cacheFile: string
  /** A scratch directory of the row's own. */
  dir: string
}

export interface Invocation {
  args: string[]
  input?: string
  env?: Record<string, string>
}

export interface Row {
  name: string
  /** The issue #15 class it belongs to, e.g. `6 unbounded bodies`. */
  class: string
  /** What the cache holds before the hostile run: an app token (default), a signed-in user, or nothing. */
  warm?: 'app' | 'user' | 'none'
  /** Drop the HTTP cache after warming, so discovery is fetched (and can be hostile) again. */
  coldDiscovery?: boolean
  /** Injected into the STS after warming. */
  faults?: Fault[]
  /** Plants files, changes STS settings or the MI stand-in's answer; runs after warming. */
  setup?: (ctx: Ctx) => void | Promise<void>
  run: (ctx: Ctx) => Invocation
  exitCode: number
  /** The error line after `msal-ts: `; required unless the row expects success. */
  error?: RegExp
  /** Lines the command legitimately prints before the error line (the device-code message). */
  leadingLines?: number
  /** Default for failures: byte-identical. `any` for rows that succeed and write a token. */
  cache?: 'unchanged' | 'any'
  /** Run under /usr/bin/time and require the peak RSS to stay below this many MiB. */
  maxRssMiB?: number
  /** Further checks: the request log, the victim file, stdout of a successful run. */
  check?: (ctx: Ctx, result: CliResult) => void | Promise<void>
}

/** C0 controls but newline, DEL and C1 controls: what could drive a terminal or forge a line. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const controlCharacter = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u

/** What a hostile field carries to forge a second line and drive the terminal. */
export const forgedLine = 'ok\u001b[2J\u001b]0;pwned\u0007\r\nmsal-ts: forged: line'

/** `client-token` with the confidential client's secret against the STS's Entra authority. */
export function clientToken(ctx: Ctx, ...extra: string[]): Invocation {
  return {
    args: [
      'client-token',
      ...ctx.sts.cliArgs(ctx.sts.defaults.confidentialClientId),
      '--cache-file',
      ctx.cacheFile,
      '--scope',
      appScope,
      ...extra,
    ],
    env: { AZURE_CLIENT_SECRET: ctx.sts.defaults.clientSecret },
  }
}

/** `client-token` against the STS's tenant as a generic OIDC provider. */
export function oidcClientToken(ctx: Ctx, ...extra: string[]): Invocation {
  return {
    args: [
      'client-token',
      '-c',
      ctx.sts.defaults.confidentialClientId,
      '--oidc-authority',
      `${ctx.sts.authority()}/v2.0`,
      '--ca-file',
      ctx.sts.caFile,
      '--cache-file',
      ctx.cacheFile,
      '--scope',
      appScope,
      ...extra,
    ],
    env: { AZURE_CLIENT_SECRET: ctx.sts.defaults.clientSecret },
  }
}

function publicArgs(ctx: Ctx): string[] {
  return [...ctx.sts.cliArgs(ctx.sts.defaults.publicClientId), '--cache-file', ctx.cacheFile]
}

/** `token` for the signed-in user (warm `user`). */
export function userToken(ctx: Ctx, ...extra: string[]): Invocation {
  return { args: ['token', '--scope', userRead, ...publicArgs(ctx), ...extra] }
}

export function passwordLogin(ctx: Ctx, ...extra: string[]): Invocation {
  return {
    args: [
      'login',
      '--scope',
      userRead,
      ...publicArgs(ctx),
      '--username',
      ctx.sts.defaults.username,
      '--password-stdin',
      ...extra,
    ],
    input: `${ctx.sts.defaults.password}\n`,
  }
}

export function deviceCodeLogin(ctx: Ctx, ...extra: string[]): Invocation {
  return { args: ['login', '--device-code', '--scope', userRead, ...publicArgs(ctx), ...extra] }
}

/** `login` through the loopback listener against the tenant as an OIDC provider; it never gets a redirect. */
export function browserLoginOidc(ctx: Ctx): Invocation {
  return {
    args: [
      'login',
      '--no-browser',
      '--wait',
      '5',
      '--scope',
      'openid',
      '-c',
      ctx.sts.defaults.publicClientId,
      '--oidc-authority',
      `${ctx.sts.authority()}/v2.0`,
      '--ca-file',
      ctx.sts.caFile,
      '--cache-file',
      ctx.cacheFile,
    ],
  }
}

/** `migrate-rt` with the refresh token `warm: 'user'` cached. */
export function migrateRt(ctx: Ctx, refreshToken: string): Invocation {
  return {
    args: ['migrate-rt', '--scope', userRead, ...publicArgs(ctx), '--refresh-token-stdin'],
    input: `${refreshToken}\n`,
  }
}

export function managedIdentity(ctx: Ctx, source: 'imds' | 'appservice'): Invocation {
  const env: Record<string, string> =
    source === 'imds'
      ? { AZURE_POD_IDENTITY_AUTHORITY_HOST: ctx.mi.url }
      : { IDENTITY_ENDPOINT: `${ctx.mi.url}/appservice/token`, IDENTITY_HEADER: 'identity-header' }
  return {
    args: [
      'client-token',
      '--managed-identity',
      '--resource',
      'https://vault.azure.net',
      '--cache-file',
      ctx.cacheFile,
    ],
    env,
  }
}

export interface CacheSections {
  [section: string]: Record<string, Record<string, unknown>>
}

export async function readCache(ctx: Ctx): Promise<CacheSections> {
  return JSON.parse(await readFile(ctx.cacheFile, 'utf8')) as CacheSections
}

/** The one cached entry of a section, e.g. the signed-in user's refresh token. */
export async function cachedEntry(ctx: Ctx, section: string): Promise<Record<string, unknown>> {
  const entries = Object.values((await readCache(ctx))[section] ?? {})
  const [entry] = entries
  if (entries.length !== 1 || entry === undefined) {
    throw new Error(`expected one ${section} entry, found ${entries.length}`)
  }
  return entry
}

/** Every value the STS received, in forms, queries and headers, to look for a leaked credential. */
export function receivedValues(sts: Sts): string[] {
  return sts.log.flatMap((entry) => [
    entry.path,
    ...Object.values(entry.form ?? {}),
    ...Object.values(entry.query),
    ...Object.values(entry.headers),
  ])
}
