import type { Command } from 'commander'
import { type FlagsOf, type OptionDeclaration } from './shared/common-option-table.js'
import { commandFrom } from './shared/command-from-table.js'
import { type CommonFlags } from './shared/settings.js'
import type { CommandDeps } from './shared/deps.js'
import { jsonText, printable } from './shared/printable.js'

const accountsOptions = [
  { flags: '--username <username>', description: 'only this username (any case)' },
  {
    flags: '-o, --output <format>',
    description: 'table (default on a terminal) or json',
    choices: ['table', 'json'],
  },
] as const satisfies readonly OptionDeclaration[]

type AccountsFlags = CommonFlags & FlagsOf<typeof accountsOptions>

export function accountsCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'accounts',
    description: 'list the signed-in accounts in the cache',
    options: accountsOptions,
    requests: 'none',
    examples: '\nExamples:\n  msal-ts accounts\n  msal-ts accounts -o json | jq -r .[].username',
  }).action(async (flags: AccountsFlags) => runAccounts(flags, deps))
}

export async function runAccounts(flags: AccountsFlags, { io, apps }: CommandDeps): Promise<void> {
  const app = await apps.publicApp(flags, { cacheOnly: true })
  const accounts = await app.getAccounts(flags.username)
  const format = flags.output ?? (io.stdout.isTTY ? 'table' : 'json')
  if (format === 'json') {
    io.stdout.write(jsonText(accounts))
    return
  }
  // Every cell comes from the cache file: made printable, none can drive the terminal or add a row.
  const rows = [
    ['USERNAME', 'HOME ACCOUNT ID', 'ENVIRONMENT', 'TENANT'],
    ...accounts.map((a) =>
      [a.username, a.home_account_id, a.environment, a.realm].map((cell) => printable(cell)),
    ),
  ]
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? []
  rows.forEach((row, index) => {
    const line = row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
    const bold = index === 0 ? io.colours?.stdout?.bold : undefined
    io.stdout.write(`${bold ? bold(line) : line}\n`)
  })
}
