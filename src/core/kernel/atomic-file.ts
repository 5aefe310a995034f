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
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'

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
 * replaced. On failure, or when a signal ends the process meanwhile, the new file is removed and
 * `path` is left as it was.
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
  const target = existingTarget(path) ?? path
  // Loaded here: a run that only reads the cache (a cached token) has no use for node:crypto.
  const { randomBytes } = await import('node:crypto')
  // Unguessable and made exclusively: a name planted in a shared directory is never written through.
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(temporary, 'wx', options.mode)
  const stopWatching = removedOnSignal(temporary)
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
  } finally {
    stopWatching()
  }
  if (options.removeAbandoned) {
    removeAbandoned(target)
  }
}

/** Where `path` leads when it names something, links followed; undefined when nothing is there. */
export function existingTarget(path: string): string | undefined {
  try {
    return realpathSync.native(path)
  } catch {
    return undefined
  }
}

/**
 * The signals that end a process by default. While the new file exists, one that would end the
 * process removes the file first, then ends the process as it would have; one the program handles
 * itself is left to it (the write goes on, or fails and cleans up).
 */
const endingSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

function removedOnSignal(temporary: string): () => void {
  const handlers = endingSignals.map((signal) => {
    const handler = () => {
      if (process.listenerCount(signal) === 1) {
        removeQuietly(temporary)
        stop()
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, handler)
    return [signal, handler] as const
  })
  const stop = () => handlers.forEach(([signal, handler]) => process.off(signal, handler))
  return stop
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
