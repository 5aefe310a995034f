import { readlinkSync, statSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { Command } from 'commander'
import { MsalTsError, RuntimeFailure, UsageError } from '../core/kernel/errors.js'
import { openJsonFileStore } from '../core/storage/cache-store.js'
import { makeDirectories } from '../core/kernel/directories.js'
import { fileProblem, fileReason } from '../core/kernel/file-problem.js'
import { followLinks, nameIn } from '../core/kernel/safe-file.js'
import { type FlagsOf, type OptionDeclaration } from './shared/common-option-table.js'
import { commanderOption } from './shared/common-options.js'
import type { CommandDeps } from './shared/deps.js'
import type { Io } from './shared/io.js'
import { jsonText, printable } from './shared/printable.js'
import { checkProfileValue, profileKey, profileKeys } from './shared/profile-keys.js'
import {
  configDir,
  configFileName,
  authorityKeys,
  configJson,
  defaultProfile,
  type Profiles,
  profileValues,
  readProfiles,
} from './shared/profile.js'

/** Every subcommand but path acts on one profile. */
const profileOptions = [
  {
    flags: '--profile <name>',
    description: `profile (default: ${defaultProfile}) [env: MSAL_TS_PROFILE]`,
  },
] as const satisfies readonly OptionDeclaration[]

const listOptions = [
  ...profileOptions,
  { flags: '-o, --output <format>', description: 'output format', choices: ['text', 'json'] },
] as const satisfies readonly OptionDeclaration[]

type ProfileFlags = FlagsOf<typeof profileOptions>
type ListFlags = FlagsOf<typeof listOptions>

const help = `
Keys:
${Object.entries(profileKeys)
  .map(([key, { description }]) => `  ${key.padEnd(16)}${description}`)
  .join('\n')}

Each setting comes from the first of: the command-line option, its environment variable, the
profile named by --profile or MSAL_TS_PROFILE, the "default" profile, the built-in default.
Profiles hold no secrets. The file is $MSAL_TS_CONFIG_DIR/config.json, else
$XDG_CONFIG_HOME/msal-ts/config.json (~/.config/msal-ts/config.json), mode 0600.

Examples:
  # Defaults for every command
  msal-ts config set client-id 00000000-0000-0000-0000-000000000000
  msal-ts config set tenant contoso.onmicrosoft.com

  # A named profile, used with --profile or MSAL_TS_PROFILE
  msal-ts config set --profile gov cloud usgov
  MSAL_TS_PROFILE=gov msal-ts token --resource https://management.usgovcloudapi.net

  msal-ts config list`

export function configCommand({ io }: CommandDeps): Command {
  const command = new Command('config').description(
    'keep default options in named profiles (client id, authority, cache dir, output, ...)',
  )
  withOptions(command.command('set'), profileOptions)
    .description('set a key in a profile')
    .argument('<key>')
    .argument('<value>')
    .action(async (key: string, value: string, flags: ProfileFlags) =>
      update(io, flags, (profile) => {
        const checked = checkProfileValue(key, value)
        refuseSecondAuthority(profile, key, profileName(flags, io))
        return { ...profile, [key]: checked }
      }),
    )
  withOptions(command.command('unset'), profileOptions)
    .description('remove a key from a profile')
    .argument('<key>')
    .action(async (key: string, flags: ProfileFlags) => {
      profileKey(key)
      await update(io, flags, (profile) =>
        Object.fromEntries(Object.entries(profile).filter(([name]) => name !== key)),
      )
    })
  withOptions(command.command('get'), profileOptions)
    .description('print the value a profile gives a key (the default profile filling in)')
    .argument('<key>')
    .action((key: string, flags: ProfileFlags) => {
      profileKey(key)
      const value = profileValues(profileName(flags, io), io.env)[key]
      if (value === undefined) {
        throw new RuntimeFailure('not_set', `${key} is not set`)
      }
      // A value written by hand may hold control characters: shown, never sent to the terminal.
      io.stdout.write(`${printable(value)}\n`)
    })
  withOptions(command.command('list'), listOptions)
    .description('print the profiles (or one, with --profile) as key=value lines or JSON')
    .action((flags: ListFlags) => {
      const name = profileName(flags, io)
      const profiles = name ? { [name]: profileValues(name, io.env) } : readProfiles(io.env)
      io.stdout.write(flags.output === 'json' ? jsonText(profiles) : text(profiles))
    })
  command
    .command('path')
    .description('print where the config file is')
    .action(() => {
      io.stdout.write(`${nameIn(configDir(io.env), configFileName)}\n`)
    })
  command.addHelpText('after', help)
  return command
}

/**
 * One profile says where to sign in once: a run would act on one of two, and drop the other. A
 * cloud goes with a tenant; beside an authority URL or an OpenID provider it would not act.
 */
function refuseSecondAuthority(
  profile: Record<string, string>,
  key: string,
  name: string | undefined,
): void {
  const other = Object.keys(profile).find((held) => clash(held, key))
  if (other !== undefined) {
    const where =
      name === undefined || name === defaultProfile ? '' : ` --profile ${printable(name)}`
    throw new UsageError(
      'conflicting_options',
      `the profile holds ${other} already, and ${key} would not act beside it: msal-ts config unset${where} ${other} first`,
    )
  }
}

/**
 * A link on the way that leads nowhere (mistyped, an unmounted disk), where directories would have
 * to be made: refused, as the directories a link names are never made, only those of the config
 * itself. A config.json linked to a file not there yet, in a directory that is, is written.
 */
function refuseDanglingLink(links: readonly string[], target: string): void {
  const dangling = links.find((link) => statSync(link, { throwIfNoEntry: false }) === undefined)
  if (
    dangling !== undefined &&
    statSync(dirname(target), { throwIfNoEntry: false }) === undefined
  ) {
    throw new UsageError(
      'unwritable_config',
      `${printable(dangling)} is a symbolic link to ${printable(readlinkSync(dangling))}, which is not there`,
    )
  }
}

/** Two keys one profile cannot hold together. */
function clash(a: string, b: string): boolean {
  const names = (key: string) => (authorityKeys as readonly string[]).includes(key)
  const isUrl = (key: string) => key === 'authority' || key === 'oidc-authority'
  if (a === b) {
    return false
  }
  return (names(a) && names(b)) || (a === 'cloud' && isUrl(b)) || (b === 'cloud' && isUrl(a))
}

function withOptions(command: Command, declarations: readonly OptionDeclaration[]): Command {
  for (const declaration of declarations) {
    command.addOption(commanderOption(declaration))
  }
  return command
}

function profileName(flags: ProfileFlags, io: Io): string | undefined {
  // --profile= would otherwise name a profile called "" rather than the default one.
  if (flags.profile?.trim() === '') {
    throw new UsageError('invalid_option', '--profile takes a value, not an empty one')
  }
  return flags.profile ?? io.env['MSAL_TS_PROFILE']
}

/** Lines for people, made printable: a hand-edited file can neither drive the terminal nor add a line. */
function text(profiles: Profiles): string {
  return Object.entries(profiles)
    .map(
      ([name, values]) =>
        `[${printable(name)}]\n${Object.entries(values)
          .map(([key, value]) => `${printable(key)}=${printable(String(value))}\n`)
          .join('')}`,
    )
    .join('\n')
}

/**
 * Rewrites one profile through conf (atomic write, file 0600 in a 0700 directory), under the lock
 * the token cache files take: runs setting keys at once each keep theirs, as the file is read
 * afresh once the lock is held.
 */
async function update(
  io: Io,
  flags: ProfileFlags,
  change: (profile: Record<string, string>) => Record<string, string>,
): Promise<void> {
  const name = profileName(flags, io) ?? defaultProfile
  const changed = (profiles: Profiles) => {
    const next = {
      ...profiles,
      [name]: change((Object.hasOwn(profiles, name) ? profiles[name] : undefined) ?? {}),
    }
    if (Object.keys(next[name] ?? {}).length === 0) {
      delete next[name]
    }
    return next
  }
  // Bad input is refused before anything is made or locked.
  changed(readProfiles(io.env))
  const { default: Conf } = await import('conf')
  const file = nameIn(configDir(io.env), configFileName)
  const failed = (error: unknown) => {
    const { usage } = fileProblem(error)
    const reason = error instanceof MsalTsError ? error.message : fileReason(error)
    const message = `cannot write the config file ${file}: ${reason}`
    return usage || error instanceof UsageError
      ? new UsageError('unwritable_config', message)
      : new RuntimeFailure('config_io', message)
  }
  let reached: string
  try {
    // conf would take `x/..` off by name: it is given the file the system reaches by the name
    // (the directory may be named `cfg/`, and not be there yet), under its own name: a config.json
    // linked to dotfiles/msal-ts.json is written there, not beside it as a new config.json.
    const links: string[] = []
    reached = followLinks(file, (link) => links.push(link))?.target ?? file
    refuseDanglingLink(links, reached)
    makeDirectories(dirname(reached))
  } catch (error) {
    throw failed(error)
  }
  const lock = openJsonFileStore({ path: reached })
  try {
    await lock.withLock(() => {
      const store = new Conf<{ profiles: Profiles }>({
        cwd: dirname(reached),
        configName: basename(reached),
        fileExtension: '',
        configFileMode: 0o600,
        deserialize: configJson as (text: string) => { profiles: Profiles },
      })
      store.set('profiles', changed(readProfiles(io.env)))
      return Promise.resolve()
    })
  } catch (error) {
    // A config that turned bad meanwhile is reported as such.
    if (error instanceof UsageError && error.code !== 'cache_file') {
      throw error
    }
    throw failed(error)
  }
}
