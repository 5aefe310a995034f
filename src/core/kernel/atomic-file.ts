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
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { promisify } from 'node:util'

/**
 * Writes `text` to a new file beside `path`, gives it `mode` (whatever the umask), flushes it to
 * disk, then renames it over `path`. A symbolic link at `path` is written through, not replaced.
 * On failure the new file is removed and `path` is left as it was.
 *
 * The steps on a small file take microseconds and are done in place; each trip through the thread
 * pool cost a run up to a millisecond of waiting. Only the flush, which waits on the disk, goes
 * there.
 */
export async function writeFileAtomically(path: string, text: string, mode: number): Promise<void> {
  const target = existingTarget(path) ?? path
  // Loaded here: a run that only reads the cache (a cached token) has no use for node:crypto.
  const { randomBytes } = await import('node:crypto')
  // Unguessable and made exclusively: a name planted in a shared directory is never written through.
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(temporary, 'wx', mode)
  try {
    try {
      fchmodSync(fd, mode)
      writeFileSync(fd, text, 'utf8')
      await promisify(fsync)(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, target)
  } catch (error) {
    try {
      unlinkSync(temporary)
    } catch {
      // Already gone: nothing is left behind either way.
    }
    throw error
  }
}

/** Where `path` leads when it names something, links followed; undefined when nothing is there. */
function existingTarget(path: string): string | undefined {
  try {
    return realpathSync.native(path)
  } catch {
    return undefined
  }
}
