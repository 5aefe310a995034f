import type { Command } from 'commander'
import { RuntimeFailure, UsageError } from '../core/kernel/errors.js'
import { errorCode, fileProblem, fileReason } from '../core/kernel/file-problem.js'
import { UnsafeFile, checkFile, maxCacheBytes } from '../core/kernel/safe-file.js'
import { statSync } from 'node:fs'
import { dirname, sep } from 'node:path'
import { type FlagsOf, type OptionDeclaration } from './shared/common-option-table.js'
import { commandFrom } from './shared/command-from-table.js'
import { signInOptions } from './shared/sign-in-options.js'
import type { CommandDeps } from './shared/deps.js'
import { type CommonFlags } from './shared/settings.js'
import { parseJsonObject, scopesFrom } from './shared/scope-options.js'

const authUrlOptions = [
  signInOptions.scope,
  { flags: '--redirect-uri <uri>', description: 'where the provider sends the answer' },
  {
    flags: '--state <state>',
    description: 'opaque value echoed back (generated with --flow-file)',
  },
  { flags: '--nonce <nonce>', description: 'echoed in the ID token' },
  signInOptions.prompt,
  signInOptions.loginHint,
  signInOptions.domainHint,
  { flags: '--response-type <type>', description: 'default: code' },
  signInOptions.claimsChallenge,
  signInOptions.maxAge,
  { flags: '--response-mode <mode>', description: 'query, fragment or form_post' },
  {
    flags: '--flow-file <path>',
    description: 'write the flow (mode 0600) for msal-ts redeem --flow-file',
  },
] as const satisfies readonly OptionDeclaration[]

type AuthUrlFlags = CommonFlags & FlagsOf<typeof authUrlOptions>

const examples = `
Examples:
  # A web app's sign-in link
  msal-ts auth-url --scope User.Read --redirect-uri https://app.example.com/callback --state "$STATE"

  # The whole flow (PKCE, state, nonce) kept in a file for msal-ts redeem
  msal-ts auth-url --scope User.Read --redirect-uri http://localhost:8400 --flow-file flow.json`

export function authUrlCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'auth-url',
    description:
      'print an authorization URL; with --flow-file, start an auth code flow (PKCE, state, nonce)',
    options: authUrlOptions,
    requests: 'authorization-url',
    examples,
  }).action(async (flags: AuthUrlFlags) => runAuthUrl(flags, deps))
}

export async function runAuthUrl(flags: AuthUrlFlags, { io, apps }: CommandDeps): Promise<void> {
  const scopes = scopesFrom(flags.scope, undefined)
  if (flags.claimsChallenge !== undefined) {
    parseJsonObject(flags.claimsChallenge, '--claims-challenge')
  }
  const maxAge = flags.maxAge === undefined ? undefined : wholeSeconds(flags.maxAge)
  if (flags.flowFile !== undefined) {
    refuseUnwritableFlowFile(flags.flowFile)
  }
  const app = await apps.publicApp(flags)
  const common = {
    ...(flags.redirectUri !== undefined ? { redirectUri: flags.redirectUri } : {}),
    ...(flags.state !== undefined ? { state: flags.state } : {}),
    ...(flags.prompt !== undefined ? { prompt: flags.prompt } : {}),
    ...(flags.loginHint !== undefined ? { loginHint: flags.loginHint } : {}),
    ...(flags.domainHint !== undefined ? { domainHint: flags.domainHint } : {}),
    ...(flags.claimsChallenge !== undefined ? { claimsChallenge: flags.claimsChallenge } : {}),
  }
  try {
    if (flags.flowFile === undefined) {
      const url = await app.getAuthorizationRequestUrl(scopes, {
        ...common,
        ...(flags.nonce !== undefined ? { nonce: flags.nonce } : {}),
        ...(flags.responseType !== undefined ? { responseType: flags.responseType } : {}),
        ...(maxAge !== undefined ? { maxAge } : {}),
        ...(flags.responseMode !== undefined ? { responseMode: flags.responseMode } : {}),
      })
      io.stdout.write(`${url}\n`)
      return
    }
    if (flags.nonce !== undefined || flags.responseType !== undefined) {
      throw new UsageError(
        'conflicting_options',
        '--flow-file generates its own nonce and always asks for a code',
      )
    }
    const { responseMode } = flags
    // The code must reach the server that redeems the flow: never in the fragment.
    if (responseMode !== undefined && responseMode !== 'query' && responseMode !== 'form_post') {
      throw new UsageError(
        'conflicting_options',
        `--flow-file takes --response-mode query or form_post, not ${JSON.stringify(responseMode)}`,
      )
    }
    const flow = await app.initiateAuthCodeFlow(scopes, {
      ...common,
      ...(maxAge !== undefined ? { maxAge } : {}),
      ...(responseMode !== undefined ? { responseMode } : {}),
    })
    try {
      const { writeFileAtomically } = await import('../core/kernel/atomic-file.js')
      await writeFileAtomically(flags.flowFile, `${JSON.stringify(flow, null, 2)}\n`, {
        mode: 0o600,
      })
    } catch (error) {
      const { usage, reason } = fileProblem(error)
      const message = `cannot write the flow file ${flags.flowFile}: ${reason}`
      // A directory that is not there is the caller's to make, as for any file a command writes.
      throw usage || errorCode(error) === 'ENOENT'
        ? new UsageError('unwritable_file', message)
        : new RuntimeFailure('unwritable_file', message)
    }
    io.stdout.write(`${flow.auth_uri}\n`)
  } finally {
    await app.close()
  }
}

export function wholeSeconds(text: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0) {
    throw new UsageError(
      'invalid_option',
      `--max-age takes whole seconds, not ${JSON.stringify(text)}`,
    )
  }
  return value
}

/**
 * Before any request: an empty path, or something at the path that is no file of the user's own (a
 * FIFO, a device, a directory, a link loop) is refused, never replaced.
 */
function refuseUnwritableFlowFile(path: string): void {
  if (path.trim() === '') {
    throw new UsageError('invalid_option', '--flow-file takes a value, not an empty one')
  }
  try {
    if (path.endsWith('/') || path.endsWith(sep)) {
      throw new UnsafeFile('it names a directory', 'EISDIR')
    }
    checkFile(path, { maxBytes: maxCacheBytes, ownFile: true })
    // The file is made, its directory is not (as for any file a command writes).
    statSync(dirname(path))
  } catch (error) {
    throw new UsageError(
      'unwritable_file',
      `cannot write the flow file ${path}: ${fileReason(error)}`,
    )
  }
}
