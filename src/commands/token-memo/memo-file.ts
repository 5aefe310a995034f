/**
 * The memo of cached answers: for each way `msal-ts token` was recently answered from the cache,
 * what the answer depended on (its arguments, working directory, the environment variables it read,
 * what it saw at each path it looked at, the time) and where its token is. It holds no token: a
 * replay still reads the token from the cache file, whose signature it checks before and after.
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Account } from '../../core/protocol/result.js'
import { makeDirectories } from '../../core/kernel/directories.js'
import { nameIn } from '../../core/kernel/safe-file.js'
import { defaultCacheDir } from '../shared/cache-paths.js'
import type { Io } from '../shared/io.js'
import type { TokenFormat } from '../shared/output.js'
import type { Look } from './signature.js'

export interface Memo {
  args: string[]
  /** The install that answered (its cache-hit bundle): another version answers anew. */
  code: string
  cwd: string
  /** The process's user and group, and Node's version: a memo is never another's. */
  ids: string
  /** Every variable the answer read, in the order read; null for one that was not set. */
  env: [string, string | null][]
  /** Every path the answer looked at, and what it saw (signature.ts). */
  paths: [Look, string, string][]
  /** Seconds since the epoch: from then on the cache may answer otherwise. */
  until: number
  tokenFile: string
  tokenKey: string
  account: Account
  format: TokenFormat
}

/** Recent ways of asking, each a few hundred bytes; the oldest goes first. */
export const maxMemos = 16
/** A memo of more paths than this is not kept: no answer looks at nearly so many. */
export const maxPaths = 64
const maxMemoBytes = 256 * 1024
const version = 1

/** The memo file, beside the default token caches; none where the home directory is unknown. */
export function memoPath(io: Io): string | undefined {
  try {
    return nameIn(defaultCacheDir(io), 'token-memo.json')
  } catch {
    return undefined
  }
}

/**
 * The memos in the file, [] when there is none or it is not to be trusted: it must be this user's
 * regular file, which no other user can write, at the name itself (no link). A memo found through a
 * link higher up is still this user's, and holds only where everything it names checks out.
 */
export function readMemos(path: string): Memo[] {
  let fd: number
  try {
    fd = openSync(
      path,
      constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0),
    )
  } catch {
    return []
  }
  try {
    const stats = fstatSync(fd)
    const me = process.geteuid?.()
    const others = me !== undefined && (stats.uid !== me || (stats.mode & 0o022) !== 0)
    if (!stats.isFile() || others || stats.size > maxMemoBytes) {
      return []
    }
    const doc: unknown = JSON.parse(readFileSync(fd, 'utf8'))
    const { version: seen, memos } = (doc ?? {}) as { version?: unknown; memos?: unknown }
    return seen === version && Array.isArray(memos) ? memos.filter(isMemo) : []
  } catch {
    return []
  } finally {
    closeSync(fd)
  }
}

/**
 * Replaces the file whole. A memo is only ever a shortcut: a write lost to a crash or to another
 * run's write costs the next run its shortcut, so there is no lock and no flush to disk. Its
 * directory is the user's own (0700): the temporary name needs to be unique, not unguessable.
 */
export function writeMemos(path: string, memos: readonly Memo[]): void {
  const directory = dirname(path)
  makeDirectories(directory)
  const stats = statSync(directory)
  const me = process.geteuid?.()
  if (me !== undefined && (stats.uid !== me || (stats.mode & 0o022) !== 0)) {
    return
  }
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`
  const fd = openSync(temporary, 'wx', 0o600)
  try {
    try {
      writeSync(fd, JSON.stringify({ version, memos }))
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, path)
  } catch (error) {
    unlinkSync(temporary)
    throw error
  }
}

/**
 * Forgets every memo: after a sign-out, none of them names the account any more. New files a run
 * killed mid-write left behind go too.
 */
export function forgetMemos(io: Io): void {
  const path = memoPath(io)
  if (path === undefined) {
    return
  }
  const name = basename(path)
  let names: string[] = []
  try {
    names = readdirSync(dirname(path)).filter(
      (entry) => entry === name || (entry.startsWith(`${name}.`) && entry.endsWith('.tmp')),
    )
  } catch {
    // No directory, no memo.
  }
  for (const entry of names) {
    try {
      unlinkSync(nameIn(dirname(path), entry))
    } catch {
      // Gone meanwhile, or not ours to remove: a replay checks each memo against the cache anyway.
    }
  }
}

/** A memo as written here; anything else in the file is passed over. */
function isMemo(value: unknown): value is Memo {
  const memo = value as Partial<Memo> | null
  return (
    typeof memo === 'object' &&
    memo !== null &&
    isStrings(memo.args) &&
    typeof memo.code === 'string' &&
    typeof memo.cwd === 'string' &&
    typeof memo.ids === 'string' &&
    Array.isArray(memo.env) &&
    memo.env.every(
      (pair) =>
        Array.isArray(pair) &&
        pair.length === 2 &&
        typeof pair[0] === 'string' &&
        (pair[1] === null || typeof pair[1] === 'string'),
    ) &&
    Array.isArray(memo.paths) &&
    memo.paths.length <= maxPaths &&
    memo.paths.every((path) => Array.isArray(path) && path.length === 3 && isStrings(path)) &&
    Number.isFinite(memo.until) &&
    typeof memo.tokenFile === 'string' &&
    typeof memo.tokenKey === 'string' &&
    typeof memo.account === 'object' &&
    memo.account !== null &&
    typeof memo.format === 'string'
  )
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}
