import type { CommandDeps } from './shared/deps.js'
import { Command } from 'commander'
import { createHttpClient } from '../core/http/client.js'
import { UsageError } from '../core/kernel/errors.js'
import { type DecodedJwt, decodeJwt, verifyJwt } from '../core/protocol/jwt-inspection.js'
import { readBoundedStdin } from './shared/bounded-stdin.js'
import { type FlagsOf, type OptionDeclaration } from './shared/common-option-table.js'
import { commanderOption } from './shared/common-options.js'
import { type Io, say, warn } from './shared/io.js'
import { stderrLogger } from './shared/logging.js'
import { jsonText, printable } from './shared/printable.js'
import { profileLayer } from './shared/profile.js'
import { refuseGivenOptions } from './shared/refuse-options.js'
import {
  type LogLevel,
  caSetting,
  checkOwnCaFile,
  logLevelSetting,
  logLevels,
  proxySetting,
  refuseCaFileWhenInsecure,
  timeoutSetting,
} from './shared/settings.js'

/**
 * None of the shared options: decode builds no client and reads no token cache, so it lists only
 * what the requests of --verify need.
 */
const decodeOptions = [
  {
    flags: '--verify',
    description: "check the signature with the issuer's published keys (exit 1 if it fails)",
  },
  {
    flags: '-o, --output <format>',
    description: 'output format (default: table on a terminal, else json)',
    choices: ['table', 'json'],
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
  { flags: '--proxy <url>', description: 'HTTP(S) proxy [env: HTTPS_PROXY, HTTP_PROXY, NO_PROXY]' },
  {
    flags: '--profile <name>',
    description: 'named set of defaults for the requests of --verify [env: MSAL_TS_PROFILE]',
  },
  {
    flags: '--timeout <seconds>',
    description: 'per HTTP request (default: 30) [env: MSAL_TS_TIMEOUT]',
  },
  { flags: '-v, --verbose', description: 'log the requests of --verify to stderr (debug level)' },
  {
    flags: '--log-level <level>',
    description: 'log level [env: MSAL_TS_LOG_LEVEL]',
    choices: logLevels,
  },
  { flags: '--no-color', description: 'no colour [env: NO_COLOR]' },
] as const satisfies readonly OptionDeclaration[]

type DecodeFlags = FlagsOf<typeof decodeOptions>

/** Far above any real token (Entra's with many groups stay under 16 KiB), far below harm. */
const maxInputBytes = 256 * 1024

const examples = `
Examples:
  # What is in the token a command gets (json when piped, a table on a terminal)
  msal-ts token --resource https://management.azure.com | msal-ts decode -o table

  # The claims a script needs, e.g. the roles of an app-only token
  msal-ts client-token --resource api://my-api | msal-ts decode | jq .claims.roles

  # An Authorization header as -o header prints it (or pasted from a request) works too
  msal-ts token --scope api://my-api/read -o header | msal-ts decode

  # Check the signature against the issuer's published keys: exit 1 with the reason when it fails
  msal-ts token --scope api://my-api/read | msal-ts decode --verify`

export function decodeCommand({ io }: CommandDeps): Command {
  const command = new Command('decode')
    .description("show a token's header and claims (JWT from stdin); --verify checks its signature")
    .argument('[token]', 'the token, when not on stdin (visible to other users: prefer stdin)')
  for (const declaration of decodeOptions) {
    command.addOption(commanderOption(declaration))
  }
  command.addHelpText('after', examples)
  return command.action(async (token: string | undefined, flags: DecodeFlags) =>
    runDecode(token, flags, io),
  )
}

export async function runDecode(
  argument: string | undefined,
  flags: DecodeFlags,
  io: Io,
): Promise<void> {
  refuseIdleTransportOptions(flags)
  if (argument !== undefined) {
    warn(io, 'a token on the command line is visible to other users: pipe it on stdin instead')
  }
  if (argument === undefined && io.stdin.isTTY) {
    say(io, 'Paste the token, then press Enter and Ctrl-D')
  }
  const text = argument ?? (await readBoundedStdin(io, maxInputBytes, 'the token'))
  const decoded = await decodeJwt(tokenIn(text))
  if (flags.verify) {
    await verify(decoded, flags, io)
  }
  const format = flags.output ?? (io.stdout.isTTY ? 'table' : 'json')
  io.stdout.write(
    format === 'json'
      ? jsonText({ header: decoded.header, claims: decoded.claims })
      : table(decoded, Date.now() / 1000),
  )
}

/** The options that only act on the requests of --verify. */
function refuseIdleTransportOptions(flags: DecodeFlags): void {
  if (flags.verify) {
    return
  }
  refuseGivenOptions(
    [
      ['--ca-file', flags.caFile !== undefined],
      ['--insecure', flags.insecure === true],
      ['--proxy', flags.proxy !== undefined],
      ['--profile', flags.profile !== undefined],
      ['--timeout', flags.timeout !== undefined],
      ['--verbose', flags.verbose === true],
      ['--log-level', flags.logLevel !== undefined],
    ],
    (names) =>
      `${names} ${names.includes(',') ? 'act' : 'acts'} on the requests of --verify, and there are none without it`,
  )
}

/**
 * The token from a bare JWT or an `Authorization: <type> <token>` line (what `-o header` prints),
 * with surrounding blank space; anything else is refused without being repeated.
 */
function tokenIn(text: string): string {
  const line = text.trim()
  if (line === '') {
    throw new UsageError('missing_token', 'no token: pipe one on stdin, or give it as an argument')
  }
  if (/[\r\n]/.test(line)) {
    throw new UsageError('invalid_token', 'the input holds more than one line: give one token')
  }
  const header = /^authorization:[ \t]*(?:[!-~]+[ \t]+)?([!-~]+)$/i.exec(line)
  return header?.[1] ?? line
}

async function verify(decoded: DecodedJwt, flags: DecodeFlags, io: Io): Promise<void> {
  const transport = transportSettings(flags, io)
  if (flags.insecure) {
    warn(
      io,
      'TLS certificate verification is off (--insecure): anyone on the network path can forge the keys',
    )
  }
  const http = createHttpClient(
    {
      timeoutMs: transport.timeoutSeconds * 1000,
      ...(transport.proxy ? { proxy: transport.proxy } : {}),
      ...(transport.caFile ? { caFile: transport.caFile } : {}),
      ...(flags.insecure ? { insecure: true } : {}),
    },
    stderrLogger(io, { logLevel: transport.logLevel, pii: false }),
  )
  try {
    const verification = await verifyJwt(decoded, http)
    say(
      io,
      `signature verified: key ${verification.kid ?? '(no kid)'} from ${verification.jwksUri}`,
    )
  } finally {
    await http.close()
  }
}

/**
 * Option > environment > profile (--profile or MSAL_TS_PROFILE, else the default one), as for the other
 * commands: a CA or proxy kept in a profile serves --verify too, and the CA file is chosen by the
 * same precedence as everywhere (settings.ts). The environment's proxy is applied by the HTTP
 * layer; the profile's only when it has none.
 */
function transportSettings(
  flags: DecodeFlags,
  io: Io,
): { timeoutSeconds: number; caFile?: string; proxy?: string; logLevel: LogLevel } {
  const { env } = io
  const layer = profileLayer(flags.profile ?? env['MSAL_TS_PROFILE'], env)
  const proxy = proxySetting(flags.proxy, env, layer)
  refuseCaFileWhenInsecure(flags)
  const ca = caSetting(flags, env, layer)
  // --verify always sends requests: a machine-wide CA file is checked up front too.
  checkOwnCaFile({ ...ca, insecure: flags.insecure === true }, { requestCertain: true })
  const { caFile } = ca
  return {
    timeoutSeconds: timeoutSetting(flags.timeout, env, layer),
    ...(caFile ? { caFile } : {}),
    ...(proxy ? { proxy } : {}),
    logLevel: logLevelSetting(flags, env, layer),
  }
}

/** The claims that are times, shown also as local times. */
const timeClaims = new Set(['exp', 'iat', 'nbf', 'auth_time'])

/**
 * Claim names past this are cut in the table: names are padded to the longest, and a hostile
 * token's one huge name must not pad every row to it.
 */
const maxNameLength = 64

/** Two sections of `name  value` rows; every value made printable, times spelled out. */
function table(decoded: DecodedJwt, now: number): string {
  const rows = (values: Record<string, unknown>) =>
    Object.entries(values).map(([name, value]) => [shortName(name), cell(name, value, now)])
  const sections = [
    ['Header', rows(decoded.header)],
    ['Claims', rows(decoded.claims)],
  ] as const
  const width = Math.max(0, ...sections.flatMap(([, r]) => r.map(([name]) => name?.length ?? 0)))
  return sections
    .map(
      ([title, r]) =>
        `${title}\n${r.map(([name, value]) => `  ${(name ?? '').padEnd(width)}  ${value ?? ''}\n`).join('')}`,
    )
    .join('')
}

function shortName(name: string): string {
  const shown = printable(name)
  return shown.length > maxNameLength ? `${shown.slice(0, maxNameLength - 1)}…` : shown
}

function cell(name: string, value: unknown, now: number): string {
  const text = printable(typeof value === 'string' ? value : JSON.stringify(value))
  if (!timeClaims.has(name) || typeof value !== 'number' || !Number.isFinite(value)) {
    return text
  }
  const when = localTime(new Date(value * 1000))
  if (name !== 'exp') {
    return `${text}  ${when}`
  }
  const left = Math.round(value - now)
  return `${text}  ${when}  (${left > 0 ? `expires in ${duration(left)}` : `expired ${duration(-left)} ago`})`
}

/** `2026-12-07 01:10:00 +05:30`: the local time, with its offset so it is never ambiguous. */
function localTime(date: Date): string {
  if (Number.isNaN(date.getTime())) {
    return '(not a time)'
  }
  const two = (n: number) => String(n).padStart(2, '0')
  const offset = -date.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ` +
    `${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`
  )
}

/** `1d 2h`, `1h 5m`, `4m 10s`, `30s`: the largest unit and the next one. */
function duration(seconds: number): string {
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ]
  const found = units.findIndex(([, size]) => seconds >= size)
  const index = found === -1 ? units.length - 1 : found
  const [unit, size] = units[index] ?? ['s', 1]
  const next = units[index + 1]
  const rest = next === undefined ? 0 : Math.floor((seconds % size) / next[1])
  const first = `${Math.floor(seconds / size)}${unit}`
  return next !== undefined && rest > 0 ? `${first} ${rest}${next[0]}` : first
}
