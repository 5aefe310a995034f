import type { Command } from 'commander'
import type { AuthenticationResult, ClientApplication } from '../core/clients/application.js'
import { parseAuthResponse, parseFlow } from '../core/protocol/auth-code-flow.js'
import { UsageError } from '../core/kernel/errors.js'
import { normalizeScopes } from '../core/protocol/scopes.js'
import {
  type FlagsOf,
  type OptionDeclaration,
  tokenOutputDeclaration,
} from './shared/common-option-table.js'
import { commandFrom } from './shared/command-from-table.js'
import { signInOptions } from './shared/sign-in-options.js'
import { type CommonFlags } from './shared/settings.js'
import { credentialOptions, type CredentialFlags } from './shared/app-identity-options.js'
import { readText } from './shared/credential.js'
import type { CommandDeps } from './shared/deps.js'
import { readStdin } from './shared/io.js'
import { writeToken } from './shared/output.js'
import { parseJsonObject } from './shared/scope-options.js'

const redeemOptions = [
  { flags: '--code <code>', description: 'the authorization code (needs --scope)' },
  signInOptions.scope,
  { flags: '--redirect-uri <uri>', description: 'the redirect URI the code was sent to' },
  { flags: '--nonce <nonce>', description: 'the nonce the ID token must carry' },
  signInOptions.claimsChallenge,
  { flags: '--flow-file <path>', description: 'the flow written by msal-ts auth-url --flow-file' },
  {
    flags: '--response <response>',
    description: 'the redirect URL, its query string, a form_post body, JSON, or - for stdin',
  },
  tokenOutputDeclaration,
] as const satisfies readonly OptionDeclaration[]

type RedeemFlags = CommonFlags & CredentialFlags & FlagsOf<typeof redeemOptions>

const examples = `
Examples:
  # The flow msal-ts auth-url --flow-file started, with the redirect URL the browser landed on
  msal-ts redeem --flow-file flow.json --response 'http://localhost:8400/?code=...&state=...'

  # A web app's form_post body on stdin, with its certificate
  msal-ts redeem --flow-file flow.json --response - --certificate app.pem < body.txt

  # A bare code (the deprecated API): give the scopes and the redirect URI again
  msal-ts redeem --code "$CODE" --scope User.Read --redirect-uri https://app.example.com/callback`

export function redeemCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'redeem',
    description: 'redeem an authorization code: from a flow file and its response, or a bare code',
    options: [...redeemOptions, ...credentialOptions],
    requests: 'user-tokens',
    examples,
  }).action(async (flags: RedeemFlags) => runRedeem(flags, deps))
}

/** The flow file fixed these when auth-url wrote it; a different value now could only be ignored. */
function refuseBesideFlowFile(flags: RedeemFlags): void {
  const fixed = [
    ['--redirect-uri', flags.redirectUri],
    ['--nonce', flags.nonce],
    ['--claims-challenge', flags.claimsChallenge],
  ].flatMap(([name, value]) => (value === undefined ? [] : [name]))
  if (fixed.length > 0) {
    throw new UsageError(
      'conflicting_options',
      `--flow-file fixes the redirect URI, nonce and claims: drop ${fixed.join(', ')} (give them to msal-ts auth-url)`,
    )
  }
}

export async function runRedeem(flags: RedeemFlags, { io, apps }: CommandDeps): Promise<void> {
  if ((flags.code === undefined) === (flags.flowFile === undefined)) {
    throw new UsageError(
      'conflicting_options',
      'give either --code with --scope, or --flow-file with --response',
    )
  }
  if (flags.claimsChallenge !== undefined) {
    parseJsonObject(flags.claimsChallenge, '--claims-challenge')
  }
  const scopes = normalizeScopes(flags.scope)
  let redeem: (app: ClientApplication) => Promise<AuthenticationResult>
  if (flags.flowFile !== undefined) {
    if (flags.response === undefined) {
      throw new UsageError(
        'missing_response',
        '--flow-file needs --response (the redirect URL, query, form body, JSON or -)',
      )
    }
    refuseBesideFlowFile(flags)
    // The flow names the redirect URI the code goes with: someone else's file could choose it.
    const flow = parseFlow(await readText(flags.flowFile, 'flow file', { ownFile: true }))
    const response = parseAuthResponse(
      flags.response === '-' ? await readStdin(io) : flags.response,
    )
    redeem = (app) =>
      app.acquireTokenByAuthCodeFlow(flow, response, scopes.length > 0 ? scopes : undefined)
  } else {
    if (flags.response !== undefined) {
      throw new UsageError('conflicting_options', '--response goes with --flow-file, not --code')
    }
    if (scopes.length === 0) {
      throw new UsageError('missing_scope', '--code needs --scope')
    }
    const code = flags.code ?? ''
    redeem = (app) =>
      app.acquireTokenByAuthorizationCode(code, scopes, {
        ...(flags.redirectUri !== undefined ? { redirectUri: flags.redirectUri } : {}),
        ...(flags.nonce !== undefined ? { nonce: flags.nonce } : {}),
        ...(flags.claimsChallenge !== undefined ? { claimsChallenge: flags.claimsChallenge } : {}),
      })
  }
  const result = await apps.withWebApp(flags, redeem)
  writeToken(io, result, flags.output, result.account ? { account: result.account } : {})
}
