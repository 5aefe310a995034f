import type { Command } from 'commander'
import { UsageError } from '../core/kernel/errors.js'
import { type FlagsOf, type OptionDeclaration } from './shared/common-option-table.js'
import { commandFrom } from './shared/command-from-table.js'
import { signInOptions } from './shared/sign-in-options.js'
import { type CommonFlags } from './shared/settings.js'
import { readText } from './shared/credential.js'
import type { CommandDeps } from './shared/deps.js'
import { readStdin, say } from './shared/io.js'
import { tokenFormats, writeToken } from './shared/output.js'
import { jsonText } from './shared/printable.js'
import { scopesFrom } from './shared/scope-options.js'

const migrateOptions = [
  signInOptions.scope,
  {
    flags: '--refresh-token-stdin',
    description: 'read the refresh token from stdin [env: MSAL_TS_REFRESH_TOKEN]',
  },
  { flags: '--refresh-token-file <path>', description: 'read the refresh token from a file' },
  {
    flags: '-o, --output <format>',
    description: 'print the new token instead of the account',
    choices: tokenFormats,
  },
] as const satisfies readonly OptionDeclaration[]

type MigrateFlags = CommonFlags & FlagsOf<typeof migrateOptions>

const examples = `
Examples:
  # Move a refresh token kept by another tool into the msal-ts cache
  msal-ts migrate-rt --scope https://graph.microsoft.com/User.Read --refresh-token-file old-rt.txt
  pass show old/rt | msal-ts migrate-rt --scope User.Read --refresh-token-stdin
  msal-ts token --scope https://graph.microsoft.com/User.Read      # then, from the cache`

export function migrateRtCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'migrate-rt',
    description: 'move a refresh token from elsewhere into the cache (never from argv)',
    options: migrateOptions,
    requests: 'user-tokens',
    examples,
  }).action(async (flags: MigrateFlags) => runMigrateRt(flags, deps))
}

export async function runMigrateRt(flags: MigrateFlags, { io, apps }: CommandDeps): Promise<void> {
  const scopes = scopesFrom(flags.scope, undefined)
  if (flags.refreshTokenStdin && flags.refreshTokenFile !== undefined) {
    throw new UsageError(
      'conflicting_options',
      'give --refresh-token-stdin or --refresh-token-file, not both',
    )
  }
  const refreshToken = (
    flags.refreshTokenStdin
      ? await readStdin(io)
      : flags.refreshTokenFile !== undefined
        ? await readText(flags.refreshTokenFile, 'refresh token file')
        : (io.env['MSAL_TS_REFRESH_TOKEN'] ?? '')
  ).trim()
  if (!refreshToken) {
    throw new UsageError(
      'missing_refresh_token',
      'no refresh token: pass --refresh-token-stdin or --refresh-token-file, or set MSAL_TS_REFRESH_TOKEN',
    )
  }
  const app = await apps.publicApp(flags)
  try {
    const result = await app.acquireTokenByRefreshToken(refreshToken, scopes)
    say(
      io,
      `Migrated the refresh token of ${result.account?.username || result.account?.home_account_id || 'an account'}`,
    )
    if (flags.output) {
      writeToken(io, result, flags.output, result.account ? { account: result.account } : {})
    } else {
      io.stdout.write(jsonText(result.account ?? null))
    }
  } finally {
    await app.close()
  }
}
