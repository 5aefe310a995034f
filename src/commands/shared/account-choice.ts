import type { Account } from '../../core/clients/application.js'
import { InteractionRequiredError, UsageError } from '../../core/kernel/errors.js'
import type { Prompter } from './prompter.js'

/**
 * The account a command acts for: `--account` (username or home account id) or MSAL_TS_ACCOUNT;
 * else the only one; else a prompt on a terminal, when there is a prompter; else a usage error
 * that lists them.
 */
export async function chooseAccount(
  accounts: Account[],
  wanted: string | undefined,
  { env, prompter }: { env: NodeJS.ProcessEnv; prompter?: Prompter },
): Promise<Account> {
  // --account= would otherwise pass for no --account: another account, or MSAL_TS_ACCOUNT's.
  if (wanted?.trim() === '') {
    throw new UsageError('invalid_option', '--account takes a value, not an empty one')
  }
  const name = wanted ?? env['MSAL_TS_ACCOUNT']
  if (name) {
    const lower = name.toLowerCase()
    const match = accounts.find(
      (a) => a.username.toLowerCase() === lower || a.home_account_id.toLowerCase() === lower,
    )
    if (!match) {
      throw new InteractionRequiredError(
        'no_account',
        `${name} is not signed in; run msal-ts login`,
      )
    }
    return match
  }
  if (accounts.length === 0) {
    throw new InteractionRequiredError('no_account', 'no one is signed in; run msal-ts login')
  }
  if (accounts.length === 1 && accounts[0]) {
    return accounts[0]
  }
  if (prompter === undefined || !prompter.canPrompt()) {
    const names = accounts.map((a) => a.username || a.home_account_id).join(', ')
    throw new UsageError(
      'several_accounts',
      `several accounts are signed in (${names}); choose one with --account or MSAL_TS_ACCOUNT`,
    )
  }
  return prompter.select(
    'Which account?',
    accounts.map((a) => ({
      name: `${a.username || '(no username)'}  ${a.home_account_id}`,
      value: a,
    })),
  )
}
