import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { openJsonFileStore } from '../core/storage/cache-store.js'
import { isAccount } from '../core/token-cache/schema.js'
import { controlCharacter } from '../core/kernel/control-characters.js'
import { SerializableTokenCache } from '../core/token-cache/token-cache.js'
import { defaultCacheDir } from './shared/cache-paths.js'
import type { Io } from './shared/io.js'
import { profileValues, readProfiles } from './shared/profile.js'

/**
 * `msal-ts __complete <accounts|profiles> [words typed so far]`: the values shell completions
 * cannot know, one a line, read from local files only. It never fails: a completion that prints
 * an error would land in the person's command line.
 */
export async function complete(args: readonly string[], io: Io): Promise<void> {
  const [what, ...words] = args
  try {
    const values =
      what === 'accounts'
        ? await cachedUsernames(words, io)
        : what === 'profiles'
          ? Object.keys(readProfiles(io.env))
          : []
    io.stdout.write(values.map((value) => `${value}\n`).join(''))
  } catch {
    // Nothing to offer.
  }
}

/** The value typed for an option, as `--name value`, `--name=value` or (bash) `--name = value`. */
function typed(words: readonly string[], name: string): string | undefined {
  let value: string | undefined
  words.forEach((word, i) => {
    if (word.startsWith(`${name}=`)) {
      value = word.slice(name.length + 1)
    } else if (word === name) {
      value = words[i + 1] === '=' ? words[i + 2] : words[i + 1]
    }
  })
  return value
}

/** Usernames in the cache file the command line names, else in every token cache of the cache dir. */
async function cachedUsernames(words: readonly string[], io: Io): Promise<string[]> {
  const env = io.env
  const profile = profileValues(typed(words, '--profile') ?? env['MSAL_TS_PROFILE'], env)
  const file = typed(words, '--cache-file') ?? env['MSAL_TS_CACHE_FILE'] ?? profile['cache-file']
  const dir =
    typed(words, '--cache-dir') ??
    env['MSAL_TS_CACHE_DIR'] ??
    profile['cache-dir'] ??
    defaultCacheDir(io)
  const files =
    file !== undefined
      ? [file]
      : readdirSync(dir)
          .filter((name) => /^token-cache\..*\.json$/.test(name))
          .map((name) => join(dir, name))
  const usernames = new Set<string>()
  for (const path of files) {
    const cache = new SerializableTokenCache()
    cache.deserialize(await openJsonFileStore({ path }).read())
    for (const account of Object.values(cache.toJSON().Account ?? {})) {
      // Each line printed is a candidate the shell may put on the command line: a username from
      // the file with a control character or a space would add a candidate of its own.
      if (isAccount(account) && isOneWord(account.username)) {
        usernames.add(account.username)
      }
    }
  }
  return [...usernames].sort()
}

/** A candidate of its own on the command line: no blank, no control character. */
function isOneWord(username: string | undefined): username is string {
  return (
    username !== undefined &&
    username !== '' &&
    !/\s/.test(username) &&
    !controlCharacter.test(username)
  )
}
