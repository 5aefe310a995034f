/**
 * Reading a file someone else may have planted. Only node:fs: the cached-token fast path reads the
 * cache through this module.
 */
import {
  type Stats,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  readlinkSync,
  statSync,
} from 'node:fs'
import { dirname, isAbsolute, join, parse, sep } from 'node:path'

/** A file refused for what it is, not for an I/O error: `reason` completes "cannot use <file>: ". */
export class UnsafeFile extends Error {
  readonly reason: string
  /** Set as fs sets it where there is one (EISDIR), so callers map it as they map fs errors. */
  readonly code: string | undefined

  constructor(reason: string, code?: string) {
    super(reason)
    this.name = 'UnsafeFile'
    this.reason = reason
    this.code = code
  }
}

export interface SafeReadOptions {
  /** Files larger than this are refused without being read whole. */
  maxBytes: number
  /**
   * The file must belong to this process's user and not be writable by every user (as ssh wants
   * its keys), and no symbolic link on the way to it may sit in a directory another user can
   * write (where it could be swapped).
   */
  ownFile?: boolean
  /**
   * What the file says is trusted (CA certificates): refused when every user can write it, or when
   * a symbolic link on the way sits in a directory another user can write. Whose it is is not
   * asked, as ownFile asks: a CA bundle is often root's, or a checkout's.
   */
  trusted?: boolean
}

/** Caches of many accounts are a few hundred KB: this leaves ample room and still bounds memory. */
export const maxCacheBytes = 16 * 1024 * 1024

const maxSymlinks = 40

/**
 * The text of a regular file, or undefined when there is none. A directory, FIFO, device or
 * socket, a file over maxBytes, and (with ownFile) a file of another user or reached through a
 * symbolic link others could replace, throw UnsafeFile without blocking. Other fs errors are thrown
 * as they are.
 */
export function readFileSafely(path: string, options: SafeReadOptions): string | undefined {
  // Another process's atomic write renames a new file over this one at any moment: a file replaced
  // between the checks and the open is checked again, a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      return readCheckedFile(path, options)
    } catch (error) {
      if (!(error instanceof Replaced) || attempt === maxReplacedAttempts) {
        throw error
      }
    }
  }
}

const maxReplacedAttempts = 5

class Replaced extends UnsafeFile {
  constructor() {
    super('it was replaced while being opened')
  }
}

function readCheckedFile(path: string, options: SafeReadOptions): string | undefined {
  const checked = checkFile(path, options)
  if (checked === undefined) {
    return undefined
  }
  let fd: number
  try {
    // Non-blocking: if a FIFO was swapped in after the checks, opening it must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined
    }
    throw error
  }
  try {
    const opened = fstatSync(fd)
    if (opened.dev !== checked.dev || opened.ino !== checked.ino) {
      throw new Replaced()
    }
    refuseKind(opened, options)
    return readUpTo(fd, options.maxBytes, opened.size)
  } finally {
    closeSync(fd)
  }
}

/**
 * What `path` leads to, after checking every link on the way, or undefined when nothing is there.
 * Writers call it too: a write through a planted link would land on the link's target.
 */
export function checkFile(path: string, options: SafeReadOptions): Stats | undefined {
  let reached: ReturnType<typeof followLinks>
  try {
    reached = followLinks(path, (link) => {
      if (options.ownFile || options.trusted) {
        refuseOpenDirectory(dirname(link))
      }
    })
  } catch (error) {
    // `missing/..`: no file, as the system would say when opening it.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined
    }
    throw error
  }
  if (reached === undefined) {
    throw new UnsafeFile('too many symbolic links')
  }
  if (reached.stats !== undefined) {
    refuseKind(reached.stats, options)
    if (options.trusted) {
      refuseReplaceable(reached.target, reached.stats)
    }
  }
  return reached.stats
}

/**
 * A trusted file, or any directory above it, in a directory every user can write can be renamed
 * away and replaced by any of them, unless that directory is sticky and what is in it is this
 * user's or root's (then only they can).
 */
function refuseReplaceable(target: string, stats: Stats): void {
  const me = process.geteuid?.()
  if (me === undefined) {
    return
  }
  let entry = stats
  for (let directory = dirname(target); ; directory = dirname(directory)) {
    const held = statSync(directory)
    const sticky = (held.mode & 0o1000) !== 0
    const ours = entry.uid === me || entry.uid === 0
    if ((held.mode & 0o002) !== 0 && !(sticky && ours)) {
      throw new UnsafeFile(`it is in ${directory}, a directory every user can write`)
    }
    if (dirname(directory) === directory) {
      return
    }
    entry = held
  }
}

/**
 * Where `path` leads and what is there (undefined: nothing yet), resolved one name at a time as
 * the system resolves it: a link, in the directories on the way as at the end, is followed from
 * where its directory really is (`cfg -> ../data/app`), and `..` goes up from where the path has
 * really got to, not from the name written before it (`linkdir/../x`). `visit` sees each link,
 * by its real name, before it is followed. The target is named by its real directories, so two
 * paths to one file lead to one name. Undefined past as many links as Linux follows (a loop).
 */
export function followLinks(
  path: string,
  visit: (link: string) => void = () => {},
): { target: string; stats: Stats | undefined } | undefined {
  const whole = absolutePath(path)
  let reached = parse(whole).root
  const names = namesIn(whole.slice(reached.length))
  let links = 0
  for (let name = names.shift(); name !== undefined; name = names.shift()) {
    if (name === '' || name === '.') {
      continue
    }
    if (name === '..') {
      reached = dirname(reached)
      continue
    }
    const next = join(reached, name)
    const stats = lstatSync(next, { throwIfNoEntry: false })
    if (stats === undefined) {
      if (names.some((rest) => rest === '..')) {
        // The system goes up from no directory: nothing is there, and nothing can be made there.
        throw Object.assign(new Error(`no such directory: ${next}`), { code: 'ENOENT' })
      }
      const last = names.at(-1)
      if (last === '' || last === '.') {
        throw Object.assign(new Error(`a directory is named: ${next}`), { code: 'EISDIR' })
      }
      // Nothing there yet, nor below it: a writer makes the rest as named.
      const rest = names.filter((part) => part !== '' && part !== '.')
      return { target: rest.reduce(nameIn, next), stats }
    }
    if (stats.isSymbolicLink()) {
      if (++links > maxSymlinks) {
        return undefined
      }
      visit(next)
      if (descriptorDirectory.test(reached)) {
        // /dev/stdin, /dev/fd/N: the system reaches the open file itself, which no text names
        // (`pipe:[1234]`, `/path (deleted)`).
        return names.length === 0 ? { target: next, stats: statSync(next) } : notADirectory(next)
      }
      const to = readlinkSync(next)
      names.unshift(...namesIn(to))
      if (isAbsolute(to)) {
        reached = parse(to).root
      }
      continue
    }
    if (names.length === 0) {
      return { target: next, stats }
    }
    if (!stats.isDirectory()) {
      return notADirectory(next)
    }
    reached = next
  }
  // The path ends in a directory (`dir/`, `dir/.`, `dir/..`).
  return { target: reached, stats: lstatSync(reached) }
}

/**
 * The path from the root, the working directory put before a relative one. Not path.resolve(),
 * which takes `x/..` off by the name, where the system goes up from the directory x leads to. A
 * working directory that cannot be named (deleted, too long) leaves the path relative to it.
 */
export function absolutePath(path: string): string {
  if (isAbsolute(path)) {
    return path
  }
  try {
    return nameIn(process.cwd(), path)
  } catch {
    return path
  }
}

/** `name` in the directory `dir` as written, not path.join(), which would tidy `..` away by name. */
export function nameIn(dir: string, name: string): string {
  return dir.endsWith(sep) || dir.endsWith('/') ? `${dir}${name}` : `${dir}${sep}${name}`
}

/** Where Linux lists a process's open files, each a link the system follows to the file itself. */
const descriptorDirectory = /^\/proc\/[^/]+\/fd$/

function notADirectory(path: string): never {
  throw Object.assign(new Error(`not a directory: ${path}`), { code: 'ENOTDIR' })
}

function namesIn(path: string): string[] {
  return path.split(process.platform === 'win32' ? /[\\/]/ : '/')
}

function refuseKind(stats: Stats, options: SafeReadOptions): void {
  if (stats.isDirectory()) {
    throw new UnsafeFile('it is a directory', 'EISDIR')
  }
  if (!stats.isFile()) {
    throw new UnsafeFile('it is not a regular file (a FIFO, socket or device)')
  }
  const me = process.geteuid?.()
  if (options.ownFile && me !== undefined && stats.uid !== me) {
    throw new UnsafeFile(`it belongs to uid ${stats.uid}, not to this user (uid ${me})`)
  }
  // Anyone could have written what it says: tokens to hand out, an authority to send secrets to, or
  // a CA of their own to read them on the way.
  if ((options.ownFile || options.trusted) && me !== undefined && (stats.mode & 0o002) !== 0) {
    throw new UnsafeFile(
      `every user can write it (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')})`,
    )
  }
  if (stats.size > options.maxBytes) {
    throw new UnsafeFile(`it is larger than ${mebibytes(options.maxBytes)}`)
  }
}

/** A link in a directory another user can write (or owns) may point elsewhere by the next read. */
function refuseOpenDirectory(directory: string): void {
  const stats = statSync(directory)
  const me = process.geteuid?.()
  if (me === undefined) {
    return
  }
  const othersOwn = stats.uid !== me && stats.uid !== 0
  if (othersOwn || (stats.mode & 0o022) !== 0) {
    throw new UnsafeFile(`it is a symbolic link in ${directory}, a directory other users can write`)
  }
}

/** The file grows between fstat and read at most up to the bound. */
function readUpTo(fd: number, maxBytes: number, expected: number): string {
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    const chunk = Buffer.allocUnsafe(
      Math.min(Math.max(expected - total, 0) + 1, maxBytes + 1 - total),
    )
    const read = readSync(fd, chunk, 0, chunk.length, null)
    if (read === 0) {
      return Buffer.concat(chunks, total).toString('utf8')
    }
    chunks.push(chunk.subarray(0, read))
    total += read
    if (total > maxBytes) {
      throw new UnsafeFile(`it is larger than ${mebibytes(maxBytes)}`)
    }
  }
}

function mebibytes(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`
}
