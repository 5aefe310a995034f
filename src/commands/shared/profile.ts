import { join } from 'node:path'
import { userHome, xdgBase } from './home.js'
import type { Command } from 'commander'
import { UsageError } from '../../core/kernel/errors.js'
import { quoted } from '../../core/kernel/quoted.js'
import { tokenFormats } from './output.js'
import { maxCacheBytes, nameIn, readFileSafely } from '../../core/kernel/safe-file.js'
import { fileReason } from '../../core/kernel/file-problem.js'

/** The profile whose values apply whatever else is chosen; a named profile is laid over it. */
export const defaultProfile = 'default'

/** The keys a profile may hold; what each means and how it is checked is in profile-keys.ts. */
export const profileKeyNames = [
  'client-id',
  'authority',
  'tenant',
  'cloud',
  'oidc-authority',
  'cache-dir',
  'cache-file',
  'output',
  'region',
  'timeout',
  'log-level',
  'proxy',
  'ca-file',
  'cache-url',
] as const

export type ProfileKeyName = (typeof profileKeyNames)[number]

/** Profile name -> key -> value, as the config file holds them. */
export type Profiles = Record<string, Record<string, string>>

/** Where the config file lives: MSAL_TS_CONFIG_DIR, else the XDG config dir (APPDATA on Windows). */
export function configDir(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env['MSAL_TS_CONFIG_DIR']) {
    return env['MSAL_TS_CONFIG_DIR']
  }
  if (platform === 'win32') {
    return nameIn(env['APPDATA'] ?? join(userHome(), 'AppData', 'Roaming'), 'msal-ts')
  }
  return nameIn(xdgBase(env['XDG_CONFIG_HOME'], '.config'), 'msal-ts')
}

export const configFileName = 'config.json'

/**
 * The profiles in the config file, read as plain JSON: commands other than `config` (and the
 * cache-hit path above all) never load the config library for this.
 */
export function readProfiles(env: NodeJS.ProcessEnv): Profiles {
  const file = nameIn(configDir(env), configFileName)
  let text: string | undefined
  try {
    // Profiles choose the authority tokens are sent to: the config must be the user's own too.
    text = readFileSafely(file, { maxBytes: maxCacheBytes, ownFile: true })
  } catch (error) {
    throw new UsageError(
      'unreadable_config',
      `cannot read the config file ${file}: ${fileReason(error)}`,
    )
  }
  if (text === undefined) {
    return {}
  }
  try {
    return profilesIn(configJson(text))
  } catch (error) {
    throw new UsageError(
      'invalid_config',
      `the config file ${file} is not valid: ${error instanceof Error ? error.message : ''}`,
    )
  }
}

/** A config file's JSON; an empty one (made with `touch`, say) holds no profiles, as no file. */
export function configJson(text: string): unknown {
  // Editors on Windows start a UTF-8 file with a byte-order mark, which JSON.parse refuses.
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text
  return json.trim() === '' ? {} : JSON.parse(json)
}

/** Each profile an object of strings, as `config set` writes them: a hand-edited file may not be. */
function profilesIn(config: unknown): Profiles {
  if (!isObject(config)) {
    throw new Error('it is not a JSON object')
  }
  const profiles = Object.hasOwn(config, 'profiles') ? config['profiles'] : {}
  if (!isObject(profiles)) {
    throw new Error('"profiles" is not an object')
  }
  for (const [name, values] of Object.entries(profiles)) {
    if (!isObject(values)) {
      throw new Error(`profile ${JSON.stringify(name)} is not an object`)
    }
    const odd = Object.keys(values).find((key) => typeof values[key] !== 'string')
    if (odd !== undefined) {
      throw new Error(`${JSON.stringify(odd)} in profile ${JSON.stringify(name)} is not a string`)
    }
    // A misspelt key (`time-out`) would be a setting silently not applied; config set refuses it.
    const unknown = Object.keys(values).find(
      (key) => !(profileKeyNames as readonly string[]).includes(key),
    )
    if (unknown !== undefined) {
      throw new Error(
        `${JSON.stringify(unknown)} in profile ${JSON.stringify(name)} is no config key (${profileKeyNames.join(', ')})`,
      )
    }
  }
  return profiles as Profiles
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The values in effect for a profile name (or none): the default profile, then the named one. */
export function profileValues(
  name: string | undefined,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const [named, fallback] = profileStack(name, env)
  // A named profile that says where to sign in says it whole: the default's authority and tenant
  // are not its own, as a run takes them (settings.ts), so `config get` shows what a run uses.
  const ownAuthority = authorityKeys.some((key) => named[key] !== undefined)
  const inherited = ownAuthority
    ? Object.fromEntries(
        Object.entries(fallback).filter(([key]) => !authorityKeys.includes(key as ProfileKeyName)),
      )
    : fallback
  return { ...inherited, ...named }
}

/** The keys that say where to sign in: one profile holds one of them, and a layer is taken whole. */
export const authorityKeys: readonly ProfileKeyName[] = ['oidc-authority', 'authority', 'tenant']

/**
 * The named profile's own values, then the default profile's: two layers, for the settings that
 * must come whole from one of them (an authority and its tenant), as the values of one option do.
 */
export function profileStack(
  name: string | undefined,
  env: NodeJS.ProcessEnv,
): [Record<string, string>, Record<string, string>] {
  const profiles = readProfiles(env)
  if (name && name !== defaultProfile && !Object.hasOwn(profiles, name)) {
    // A few names are a reminder; a file of thousands must not make a line of megabytes.
    const known = Object.keys(profiles).filter((p) => p !== defaultProfile)
    const shown = known.length > 10 ? [...known.slice(0, 10), '...'] : known
    throw new UsageError(
      'unknown_profile',
      `no profile named ${JSON.stringify(name)}${known.length ? ` (profiles: ${shown.join(', ')})` : ''}; create it with msal-ts config set --profile ${name} <key> <value>`,
    )
  }
  const own = (profile: string) => (Object.hasOwn(profiles, profile) ? profiles[profile] : {})
  return [name && name !== defaultProfile ? (own(name) ?? {}) : {}, own(defaultProfile) ?? {}]
}

/**
 * The profiles as a run takes them: merged, and the named profile's own values, which tell where a
 * value came from without reading the config file again.
 */
export interface ProfileLayer {
  profile: Record<string, string>
  profileName: string | undefined
  named: Record<string, string>
}

/** The layer of a profile name (or none): the default profile, the named one laid over it. */
export function profileLayer(name: string | undefined, env: NodeJS.ProcessEnv): ProfileLayer {
  const [named, fallback] = profileStack(name, env)
  return { profile: { ...fallback, ...named }, profileName: name, named }
}

/** Which profile holds a key of the layer: the named one when it sets the key, else the default. */
export function holderOf(key: string, { profileName, named }: ProfileLayer): string {
  return profileName !== undefined && named[key] !== undefined ? profileName : defaultProfile
}

/** Words naming a profile's value for a message: `the timeout of profile "work"`. */
export function profileValueWords(key: string, holder: string): string {
  return `the ${key} of profile ${quoted(holder)}`
}

/** Words naming the layer's value for a message, by the profile that holds it. */
export function fromProfile(key: string, layer: ProfileLayer): string {
  return profileValueWords(key, holderOf(key, layer))
}

/**
 * A profile's `output` stands in for a command's `-o` default (token, client-token, redeem), where
 * the command offers that format; commands whose `-o` has no default (login, accounts) keep theirs,
 * and an `-o` given wins. One that is no token format at all (`config set` refuses it; a hand edit
 * may leave it) is refused where it would apply, rather than ignored.
 */
export function applyProfileOutput(command: Command, env: NodeJS.ProcessEnv): void {
  if (command.getOptionValueSource('output') !== 'default') {
    return
  }
  const layer = profileLayer(
    command.opts<{ profile?: string }>().profile ?? env['MSAL_TS_PROFILE'],
    env,
  )
  const output = layer.profile['output']
  if (output !== undefined && !(tokenFormats as readonly string[]).includes(output)) {
    throw new UsageError(
      'invalid_config',
      `${fromProfile('output', layer)} must be ${tokenFormats.join(', ')}, not ${quoted(output)}`,
    )
  }
  const choices = command.options.find((option) => option.attributeName() === 'output')?.argChoices
  if (output !== undefined && choices?.includes(output)) {
    command.setOptionValueWithSource('output', output, 'config')
  }
}
