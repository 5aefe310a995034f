/**
 * Files replaced whole: a reader sees the old content or the new one, never a part of either.
 *
 * The few steps are taken here rather than through write-file-atomic, which took 7 ms of the first
 * write of each run against 2 for these: it loads signal-exit (handlers on a dozen signals) and asks
 * the thread pool four more times (realpath, stat, chown, chmod), for owners and modes no caller
 * here needs kept (cache files are the user's own, and always 0600).
 */
import { close, fchmod, fsync, open, realpath, rename, unlink, writeFile } from 'node:fs'
import { promisify } from 'node:util'

/**
 * Writes `text` to a new file beside `path`, gives it `mode` (whatever the umask), flushes it to
 * disk, then renames it over `path`. A symbolic link at `path` is written through, not replaced.
 * On failure the new file is removed and `path` is left as it was.
 */
export async function writeFileAtomically(path: string, text: string, mode: number): Promise<void> {
  const target = await promisify(realpath)(path).catch(() => path)
  // Loaded here: a run that only reads the cache (a cached token) has no use for node:crypto.
  const { randomBytes } = await import('node:crypto')
  // Unguessable and made exclusively: a name planted in a shared directory is never written through.
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`
  const fd = await promisify(open)(temporary, 'wx', mode)
  try {
    try {
      await promisify(fchmod)(fd, mode)
      await promisify(writeFile)(fd, text, 'utf8')
      await promisify(fsync)(fd)
    } finally {
      await promisify(close)(fd)
    }
    await promisify(rename)(temporary, target)
  } catch (error) {
    await promisify(unlink)(temporary).catch(() => {})
    throw error
  }
}
