import { type Stats, lstatSync, realpathSync, statSync } from 'node:fs'

/**
 * How a cached answer looked at a path: through every link to what is there (stat, open, read),
 * at the name itself (lstat, readlink), or at where its links lead (realpath).
 */
export type Look = 'stat' | 'lstat' | 'realpath'

export interface Signature {
  /** Equal for two looks only when the answer cannot tell them apart. */
  text: string
  /**
   * For a file or link: when it last changed (ms since the epoch, to the µs). A change in the same
   * tick of the file system's clock would leave the signature as it was, so a recent one is not
   * relied on.
   */
  changedMs?: number
}

/** What `look` sees at `path` now, errors included (a missing file is a fact too). */
export function signatureOf(look: Look, path: string): Signature {
  try {
    if (look === 'realpath') {
      return { text: `R ${realpathSync(path)}` }
    }
    const stats = (look === 'stat' ? statSync : lstatSync)(path, { throwIfNoEntry: false })
    return stats === undefined ? { text: 'ENOENT' } : described(stats)
  } catch (error) {
    return { text: `E ${(error as NodeJS.ErrnoException).code ?? 'unknown'}` }
  }
}

/**
 * A directory's entries come and go all day (a home directory, /tmp): what a check of one asks is
 * what it is, whose, and who may write it. A file's content is told by when it changed, and how big.
 */
export function described(stats: Stats): Signature {
  const what = `${stats.dev}:${stats.ino}:${stats.mode}:${stats.uid}:${stats.gid}`
  if (stats.isDirectory()) {
    return { text: `D ${what}` }
  }
  return {
    text: `F ${what}:${stats.nlink}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`,
    changedMs: Math.max(stats.mtimeMs, stats.ctimeMs),
  }
}
