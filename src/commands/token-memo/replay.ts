import { systemClock } from '../../core/kernel/clock.js'
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs'
import { fromCache } from '../../core/token-cache/lookup.js'
import { isAccessToken, isRecord } from '../../core/token-cache/schema.js'
import type { AccessTokenEntry } from '../../core/token-cache/schema.js'
import type { Io } from '../shared/io.js'
import { tokenFormats, writeToken } from '../shared/output.js'
import { type Memo, memoPath, readMemos } from './memo-file.js'
import { type Look, described, signatureOf } from './signature.js'

/**
 * `msal-ts token` answered from a memo of an earlier cache hit, when nothing the hit depended on
 * has changed: every check the hit made would come out the same, so it is not made again. False
 * (nothing written) whenever that cannot be shown; the cache-hit path then answers as always.
 */
export function answerFromMemo(
  args: readonly string[],
  io: Io,
  code: string,
  now = systemClock(),
): boolean {
  try {
    const path = memoPath(io)
    const memo = path && readMemos(path).find((m) => m.code === code && holds(m, args, io.env, now))
    const token = memo && tokenOf(memo)
    if (!memo || !token) {
      return false
    }
    writeAnswer(io, memo, token, now)
    return true
  } catch {
    return false
  }
}

/** The process, as a memo names it: the answer depends on who runs it, and on which Node. */
export function processIds(): string {
  // Supplementary groups decide what the run may read (a CA file of a group's) as much as its ids.
  return `${process.geteuid?.()}:${process.getegid?.()}:${process.getgroups?.().join(',')}:${process.version}`
}

/** The token as the hit printed it; the account and format are the memo's. */
export function writeAnswer(
  io: Pick<Io, 'stdout'>,
  memo: Memo,
  token: AccessTokenEntry,
  now: number,
): void {
  writeToken(io, { ...fromCache(token, now), account: memo.account }, memo.format, {
    account: memo.account,
  })
}

function holds(memo: Memo, args: readonly string[], env: NodeJS.ProcessEnv, now: number): boolean {
  return (
    now < memo.until &&
    memo.args.length === args.length &&
    memo.args.every((arg, i) => arg === args[i]) &&
    memo.cwd === process.cwd() &&
    memo.ids === processIds() &&
    (tokenFormats as readonly string[]).includes(memo.format) &&
    memo.env.every(([name, value]) => (env[name] ?? null) === value) &&
    memo.paths.every(([look, path, seen]) => isLook(look) && signatureOf(look, path).text === seen)
  )
}

/**
 * The memo's token from the cache file, which must be as the hit saw it: the file opened is checked
 * before and after the read, so a file swapped in or written meanwhile is never read as the old one.
 */
function tokenOf(memo: Memo): AccessTokenEntry | undefined {
  const seen = memo.paths.find(([look, path]) => look === 'stat' && path === memo.tokenFile)?.[2]
  if (seen === undefined) {
    return undefined
  }
  // Non-blocking: a FIFO swapped in after the checks must not wait for a writer.
  const fd = openSync(memo.tokenFile, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  try {
    if (described(fstatSync(fd)).text !== seen) {
      return undefined
    }
    const doc: unknown = JSON.parse(readFileSync(fd, 'utf8'))
    if (described(fstatSync(fd)).text !== seen) {
      return undefined
    }
    const section = isRecord(doc) ? doc['AccessToken'] : undefined
    const token =
      isRecord(section) && Object.hasOwn(section, memo.tokenKey)
        ? section[memo.tokenKey]
        : undefined
    return isAccessToken(token) ? token : undefined
  } finally {
    closeSync(fd)
  }
}

function isLook(look: string): look is Look {
  return look === 'stat' || look === 'lstat' || look === 'realpath'
}
