/**
 * Files replaced whole: a reader sees the old content or the new one, never a part of either.
 *
 * The few steps are taken here rather than through write-file-atomic, which took 7 ms of the first
 * write of each run against 2 for these: it loads signal-exit (handlers on a dozen signals) and asks
 * the thread pool four more times (realpath, stat, chown, chmod), for owners and modes no caller
 * here needs kept (cache files are the user's own, and always 0600).
 */
import {
  closeSync,
  fchmodSync,
  fsync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { followLinks } from './safe-file.js'

export interface AtomicWriteOptions {
  mode: number
  /**
   * Removes the new files of earlier writes of the same file that never got renamed (their
   * process was killed): for a caller that holds a lock every writer of the file takes, so that
   * no such file can be another's write in progress.
   */
  removeAbandoned?: boolean
}

/**
 * Writes `text` to a new file beside `path`, gives it `options.mode` (whatever the umask), flushes
 * it to disk, then renames it over `path`. A symbolic link at `path` is written through, not
 * replaced, even one whose file is yet to be made. On failure the new file is removed and `path` is
 * left as it was; a process killed meanwhile leaves it, for `removeAbandoned` to find.
 *
 * The steps on a small file take microseconds and are done in place; each trip through the thread
 * pool cost a run up to a millisecond of waiting. Only the flush, which waits on the disk, goes
 * there.
 */
export async function writeFileAtomically(
  path: string,
  text: string,
  options: AtomicWriteOptions,
): Promise<void> {
  const target = linkTarget(path)
  // Loaded here: a run that only reads the cache (a cached token) has no use for node:crypto.
  const { randomBytes } = await import('node:crypto')
  // Unguessable and made exclusively: a name planted in a shared directory is never written through.
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(temporary, 'wx', options.mode)
  try {
    try {
      fchmodSync(fd, options.mode)
      writeFileSync(fd, text, 'utf8')
      await promisify(fsync)(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, target)
  } catch (error) {
    removeQuietly(temporary)
    throw error
  }
  if (options.removeAbandoned) {
    removeAbandoned(target)
  }
}

/**
 * Where `path` leads, links followed: the file a link names even when it is yet to be made, so that
 * writing through a link makes that file instead of replacing the link; its directory as the
 * system names it, so that two paths to one file lead to one name. A loop is an ELOOP error.
 */
export function linkTarget(path: string): string {
  const reached = followLinks(path)
  if (reached === undefined) {
    throw Object.assign(new Error(`too many symbolic links at ${path}`), { code: 'ELOOP' })
  }
  return reached.target
}

function removeAbandoned(target: string): void {
  const directory = dirname(target)
  const name = basename(target)
  try {
    for (const entry of readdirSync(directory)) {
      if (isTemporaryOf(entry, name)) {
        removeQuietly(join(directory, entry))
      }
    }
  } catch {
    // Left for a later write: they hold nothing the file itself does not.
  }
}

function isTemporaryOf(entry: string, name: string): boolean {
  return (
    entry.length === name.length + 17 &&
    entry.startsWith(`${name}.`) &&
    /^\.[0-9a-f]{12}\.tmp$/.test(entry.slice(name.length))
  )
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Already gone: nothing is left behind either way.
  }
}
