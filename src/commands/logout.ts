import type { Command } from 'commander'
import type { Account } from '../core/clients/application.js'
import { InteractionRequiredError, RuntimeFailure, UsageError } from '../core/kernel/errors.js'
import { chooseAccount } from './shared/account-choice.js'
import { type FlagsOf, type OptionDeclaration } from './shared/common-option-table.js'
import { commandFrom } from './shared/command-from-table.js'
import { type CommonFlags } from './shared/settings.js'
import type { CommandDeps } from './shared/deps.js'
import { say } from './shared/io.js'
import { signInOptions } from './shared/sign-in-options.js'
import { forgetMemos } from './token-memo/memo-file.js'

const logoutOptions = [
  signInOptions.account,
  { flags: '--all', description: 'every signed-in account' },
  {
    flags: '--app-tokens',
    description: "only this client's app-only tokens (from client-token); no account",
  },
  { flags: '-y, --yes', description: 'do not ask to confirm' },
] as const satisfies readonly OptionDeclaration[]

type LogoutFlags = CommonFlags & FlagsOf<typeof logoutOptions>

export function logoutCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'logout',
    description: 'remove an account and its tokens from the cache',
    options: logoutOptions,
    requests: 'none',
    examples:
      '\nExamples:\n  msal-ts logout --account alice@contoso.com\n  msal-ts logout --all --yes\n  msal-ts logout --app-tokens -c <client id> -t <tenant>',
  }).action(async (flags: LogoutFlags) => runLogout(flags, deps))
}

export async function runLogout(flags: LogoutFlags, deps: CommandDeps): Promise<void> {
  const { io, prompter } = deps
  if ([flags.all, flags.account !== undefined, flags.appTokens].filter(Boolean).length > 1) {
    throw new UsageError('conflicting_options', 'give one of --account, --all and --app-tokens')
  }
  const app = await deps.apps.publicApp(flags, { cacheOnly: true })
  if (flags.appTokens) {
    // Only tokens the app can fetch again by itself go, so there is nothing to confirm.
    await app.removeTokensForClient()
    say(io, `Removed the app-only tokens of ${app.clientId}`)
    return
  }
  const accounts = await app.getAccounts()
  const leaving = flags.all ? accounts : await chosenAccount(accounts, flags.account, deps)
  if (leaving.length === 0) {
    const name = flags.all ? undefined : (flags.account ?? io.env['MSAL_TS_ACCOUNT'])
    say(io, name ? `${name} is not signed in; nothing to do.` : 'No account is signed in.')
    return
  }
  const names = leaving.map((a) => a.username || a.home_account_id).join(', ')
  if (!flags.yes && prompter.canPrompt() && !(await prompter.confirm(`Sign out ${names}?`))) {
    // Not done, so not exit 0; but no interruption either (130 is Ctrl-C's): exit 1, as az does.
    throw new RuntimeFailure('declined', 'not signed out: nothing removed')
  }
  for (const account of leaving) {
    await app.removeAccount(account)
  }
  // The memos of cached answers name the accounts they answered for.
  forgetMemos(io)
  say(io, `Signed out ${names}`)
}

/** Like `rm -f`: signing out someone who is not signed in is nothing to do, not an error. */
async function chosenAccount(
  accounts: Account[],
  wanted: string | undefined,
  { io, prompter }: CommandDeps,
): Promise<Account[]> {
  try {
    return [await chooseAccount(accounts, wanted, { env: io.env, prompter })]
  } catch (error) {
    if (error instanceof InteractionRequiredError && error.code === 'no_account') {
      return []
    }
    throw error
  }
}
