import type { Command } from 'commander'
import { readCaFile } from '../core/http/ca-file.js'
import { CancelledError, MsalTsError, UsageError } from '../core/kernel/errors.js'
import { controlCharacter } from '../core/kernel/control-characters.js'
import {
  type EndpointRequest,
  type IdentityEndpoint,
  startIdentityEndpoint,
} from '../core/loopback/identity-endpoint.js'
import { commandFrom } from './shared/command-from-table.js'
import type { FlagsOf, OptionDeclaration } from './shared/common-option-table.js'
import { withCliHint } from './shared/hints.js'
import type { CommandDeps } from './shared/deps.js'
import { type Io, say, sayLabelled, warn } from './shared/io.js'
import { appIdentityOptions } from './shared/app-identity-options.js'
import { jsonText } from './shared/printable.js'
import { openTokenSource, type TokenSource, type TokenSourceFlags } from './shared/token-source.js'
import { signInOptions } from './shared/sign-in-options.js'

const serveOwnOptions = [
  { flags: '--port <n>', description: 'port on 127.0.0.1 (default: a random free one)' },
  {
    flags: '--allow-resource <uri>',
    description: 'serve tokens for this resource only (repeatable; default: any)',
    repeatable: true,
  },
  signInOptions.account,
  {
    flags: '-o, --output <format>',
    description: 'how to print the endpoint and secret',
    choices: ['env', 'json'],
    default: 'env',
  },
] as const satisfies readonly OptionDeclaration[]

type ServeFlags = TokenSourceFlags & FlagsOf<typeof serveOwnOptions>

const examples = `
Examples:
  # A dev shell: every Azure SDK started from it gets your tokens; kill "$serve" stops the server
  source <(msal-ts serve --allow-resource https://vault.azure.net); serve=$!
  python3 app.py

  # An app registration's tokens instead, the secret from the environment
  AZURE_CLIENT_SECRET=... msal-ts serve -c <app-id> -t <tenant> -o json

  # A container on this host (Linux): host networking reaches 127.0.0.1
  source <(msal-ts serve --port 41741); serve=$!
  docker run --network host -e IDENTITY_ENDPOINT -e IDENTITY_HEADER my-image`

export function serveCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'serve',
    description:
      'serve tokens to local programs as App Service managed identity does (Azure SDKs use it as is)',
    options: [...serveOwnOptions, ...appIdentityOptions],
    requests: 'app-tokens',
    examples,
  }).action(async (flags: ServeFlags) => runServe(flags, deps))
}

export async function runServe(flags: ServeFlags, deps: CommandDeps): Promise<void> {
  const { io } = deps
  const port = parsePort(flags.port)
  const allowResources = flags.allowResource.map(checkedResource)
  const source = await openTokenSource(flags, deps)
  let endpoint: IdentityEndpoint
  try {
    // Read by each request's TLS connection otherwise: a bad one would fail every answer, not the start.
    if (source.settings.caFile !== undefined) {
      readCaFile(source.settings.caFile)
    }
    endpoint = await startIdentityEndpoint({
      port,
      allowResources,
      acquire: (resource) => source.acquire(resource),
      clientId: (token) => source.clientId(token),
      describe: (error) => withCliHint(error, { flags, env: io.env }),
      onRequest: (request) => logRequest(io, source, request, flags),
    })
  } catch (error) {
    await source.close()
    throw error
  }
  try {
    announce(io, flags.output, endpoint, source)
    await interrupted(io)
  } finally {
    await endpoint.close()
    await source.close()
  }
}

/** The two variables first, then stdout is done: `$(...)` and `source <(...)` return at once. */
function announce(
  io: Io,
  format: ServeFlags['output'],
  endpoint: IdentityEndpoint,
  source: TokenSource,
): void {
  const variables = { IDENTITY_ENDPOINT: endpoint.endpoint, IDENTITY_HEADER: endpoint.secret }
  io.stdout.requireReader?.()
  io.stdout.write(
    format === 'json'
      ? jsonText(variables)
      : Object.entries(variables)
          .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
          .join(''),
  )
  say(
    io,
    `Serving tokens of ${source.holder} at ${endpoint.endpoint} (process ${process.pid}); Ctrl-C or kill ${process.pid} stops it`,
  )
  io.stdout.end?.()
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/** Serving ends only with Ctrl-C, which exits 130. */
async function interrupted(io: Io): Promise<never> {
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) {
      resolve()
    }
    io.signal?.addEventListener('abort', () => resolve(), { once: true })
  })
  throw new CancelledError()
}

/** One line per request at info level, its failure included; below it, failures only. */
function logRequest(
  io: Io,
  source: TokenSource,
  request: EndpointRequest,
  flags: ServeFlags,
): void {
  const { error, resource } = request
  const detail =
    error === undefined
      ? undefined
      : error instanceof MsalTsError
        ? `${error.code}: ${withCliHint(error, { flags, env: io.env })}`
        : 'failed'
  const level = source.settings.logLevel
  if (level === 'info' || level === 'debug') {
    const what = [resource, detail].filter((part) => part !== undefined).join(' ')
    sayLabelled(io, 'info', `${request.method} ${request.path} ${request.status} ${what}`.trimEnd())
  } else if (detail !== undefined) {
    warn(io, `a token for ${resource ?? 'a resource'}: ${detail}`)
  }
}

function parsePort(text: string | undefined): number {
  if (text === undefined) {
    return 0
  }
  const port = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new UsageError(
      'invalid_option',
      `--port takes a port number from 1 to 65535, not ${JSON.stringify(text)}`,
    )
  }
  return port
}

function checkedResource(text: string): string {
  const resource = text.trim()
  if (!resource || /\s/.test(resource) || controlCharacter.test(resource)) {
    throw new UsageError(
      'invalid_option',
      `--allow-resource takes a resource URI or id, not ${JSON.stringify(text)}`,
    )
  }
  return resource
}
