import type { Command } from 'commander'
import { InteractionRequiredError, OAuthServerError, UsageError } from '../core/kernel/errors.js'
import { chooseAccount } from './shared/account-choice.js'
import { commandFrom } from './shared/command-from-table.js'
import type { CommandDeps } from './shared/deps.js'
import { type TokenOwnFlags, tokenCacheHitOptions, tokenRefreshOptions } from './token-options.js'
import { type CommonFlags } from './shared/settings.js'
import { writeToken } from './shared/output.js'
import { popOptions, type PopFlags, popSchemeFrom } from './shared/pop-options.js'
import { parseJsonObject, resourceScope, scopesFrom } from './shared/scope-options.js'
import { refuseReservedScopes } from '../core/protocol/scopes.js'

type TokenFlags = CommonFlags & PopFlags & TokenOwnFlags

const examples = `
Examples:
  # A Graph token for the signed-in account, ready for curl
  curl -H "$(msal-ts token --scope https://graph.microsoft.com/User.Read -o header)" https://graph.microsoft.com/v1.0/me

  # A token that stays valid for at least 30 minutes, as JSON
  msal-ts token --resource https://management.azure.com --min-validity 1800 -o json

  # Into the shell's environment: MSAL_TS_ACCESS_TOKEN, _TOKEN_TYPE, _EXPIRES_ON, _SCOPE
  eval "$(msal-ts token --resource https://management.azure.com -o env)"

  # In a script: exit code 3 means someone has to run "msal-ts login"
  token=$(msal-ts token --scope api://my-api/read) || [ $? -ne 3 ] || msal-ts login --scope api://my-api/read

  # A Proof-of-Possession token bound to msal-ts's key, signed for one request (Entra only)
  curl -H "$(msal-ts token --scope api://my-api/read --pop-method GET --pop-url https://api.contoso.com/items -o header)" https://api.contoso.com/items`

export function tokenCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'token',
    description: 'get a token for a signed-in account, from the cache or by refreshing it',
    options: [...tokenCacheHitOptions, ...tokenRefreshOptions, ...popOptions],
    requests: 'user-tokens',
    examples,
  }).action(async (flags: TokenFlags) => runToken(flags, deps))
}

export async function runToken(flags: TokenFlags, deps: CommandDeps): Promise<void> {
  const { io } = deps
  const scopes = scopesFrom(flags.scope, resourceScope(flags.resource))
  // The library looks a cached token up with these as MSAL does, refusing them only to refresh:
  // the command refuses them either way, so whether it answers never depends on what is cached.
  refuseReservedScopes(scopes)
  const minValidity = flags.minValidity === undefined ? undefined : parseSeconds(flags.minValidity)
  if (flags.claimsChallenge !== undefined) {
    parseJsonObject(flags.claimsChallenge, '--claims-challenge')
  }
  const app = await deps.apps.publicApp(flags)
  try {
    const authScheme = popSchemeFrom(flags, app)
    if (authScheme && flags.popRotateKey) {
      await app.rotatePopKey()
    }
    const account = await chooseAccount(await app.getAccounts(), flags.account, {
      env: io.env,
      prompter: deps.prompter,
    })
    const result = await app
      .acquireTokenSilentWithError(scopes, account, {
        ...(flags.forceRefresh ? { forceRefresh: true } : {}),
        ...(flags.claimsChallenge !== undefined ? { claimsChallenge: flags.claimsChallenge } : {}),
        ...(minValidity !== undefined ? { minValidity } : {}),
        ...(authScheme ? { authScheme } : {}),
      })
      .catch((error: unknown) => {
        throw withSignInHint(error)
      })
    if (result === undefined) {
      throw new InteractionRequiredError(
        'no_token',
        `no token for ${account.username || account.home_account_id} can be had silently; run msal-ts login`,
      )
    }
    writeToken(io, result, flags.output, { account: result.account ?? account })
  } finally {
    await app.close()
  }
}

/** invalid_grant and friends mean a person has to sign in again: say how, keeping the provider's details. */
export function withSignInHint(error: unknown): unknown {
  if (!(error instanceof OAuthServerError) || error.kind !== 'interaction_required') {
    return error
  }
  return new OAuthServerError(error.status, {
    ...error.body,
    error_description: `${error.message.replace(/\.?$/, '.')} Run msal-ts login to sign in again.`,
  })
}

function parseSeconds(text: string): number {
  // Number('') is 0: an empty value would pass for none.
  const seconds = Number(text)
  if (text.trim() === '' || !Number.isInteger(seconds) || seconds < 0) {
    throw new UsageError(
      'invalid_option',
      `--min-validity takes whole seconds, not ${JSON.stringify(text)}`,
    )
  }
  return seconds
}
