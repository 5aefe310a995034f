import { Command } from 'commander'
import { UsageError } from '../core/kernel/errors.js'
import { addCommonOptions } from './shared/common-options.js'
import type { CommandDeps } from './shared/deps.js'
import { type CommonFlags } from './shared/settings.js'
import { parseJsonObject, scopesFrom } from './shared/scope-options.js'

interface AuthUrlFlags extends CommonFlags {
  scope: string[]
  redirectUri?: string
  state?: string
  nonce?: string
  prompt?: string
  loginHint?: string
  domainHint?: string
  responseType?: string
  claimsChallenge?: string
  maxAge?: string
  responseMode?: string
  flowFile?: string
}

const examples = `
Examples:
  # A web app's sign-in link
  msal-ts auth-url --scope User.Read --redirect-uri https://app.example.com/callback --state "$STATE"

  # The whole flow (PKCE, state, nonce) kept in a file for msal-ts redeem
  msal-ts auth-url --scope User.Read --redirect-uri http://localhost:8400 --flow-file flow.json`

export function authUrlCommand(deps: CommandDeps): Command {
  const command = new Command('auth-url')
    .description(
      'print an authorization URL; with --flow-file, start an auth code flow (PKCE, state, nonce)',
    )
    .option('-s, --scope <scope>', 'scope (repeatable)', (v: string, p: string[]) => [...p, v], [])
    .option('--redirect-uri <uri>', 'where the provider sends the answer')
    .option('--state <state>', 'opaque value echoed back (generated with --flow-file)')
    .option('--nonce <nonce>', 'echoed in the ID token')
    .option('--prompt <prompt>', 'login, none, consent, select_account or create')
    .option('--login-hint <upn>', 'pre-fill the username')
    .option('--domain-hint <domain>', 'skip home realm discovery')
    .option('--response-type <type>', 'default: code')
    .option('--claims-challenge <json>', 'claims challenge from a resource')
    .option('--max-age <seconds>', 'require a sign-in at most this old')
    .option('--response-mode <mode>', 'query, fragment or form_post')
    .option('--flow-file <path>', 'write the flow (mode 0600) for msal-ts redeem --flow-file')
  addCommonOptions(command, { requests: 'authorization-url' })
  command.addHelpText('after', examples)
  return command.action(async (flags: AuthUrlFlags) => runAuthUrl(flags, deps))
}

export async function runAuthUrl(flags: AuthUrlFlags, { io, apps }: CommandDeps): Promise<void> {
  const scopes = scopesFrom(flags.scope, undefined)
  if (flags.claimsChallenge !== undefined) {
    parseJsonObject(flags.claimsChallenge, '--claims-challenge')
  }
  const maxAge = flags.maxAge === undefined ? undefined : wholeSeconds(flags.maxAge)
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
    const flow = await app.initiateAuthCodeFlow(scopes, {
      ...common,
      ...(maxAge !== undefined ? { maxAge } : {}),
      ...(flags.responseMode !== undefined ? { responseMode: flags.responseMode } : {}),
    })
    try {
      const { default: writeFileAtomic } = await import('write-file-atomic')
      await writeFileAtomic(flags.flowFile, `${JSON.stringify(flow, null, 2)}\n`, { mode: 0o600 })
    } catch (error) {
      throw new UsageError(
        'unwritable_file',
        `cannot write the flow file ${flags.flowFile}: ${(error as Error).message}`,
      )
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
