/**
 * Node 20's stand-in for the compile cache Node 22 keeps by itself (`module.enableCompileCache`):
 * V8 keeps the code it compiled for msal-ts's bundles in a directory of the user's, and the next
 * run takes it from there instead of parsing and compiling the same bundles again.
 *
 * Compiled code read from a file is code that runs, so the directory must be the user's alone: one
 * that is a link, another user's, or open to others leaves the cache unused. V8 checks little of
 * what it reads (not even that the code is that of the same source): a file is named after the
 * content of the bundle it was compiled from (the build lists each bundle's digest in
 * dist/compile-keys.json), and reaches its name only once written whole and flushed to disk, so no
 * run reads a torn file. A file damaged later (bytes changed in place) V8 would take too, and abort
 * the process on it, on every run until the file is replaced: each file starts with a CRC-32 of the
 * code it holds, and V8 sees only code that matches it. Any failure here only means compiling as
 * usual, and a file that was not used is written anew by a run that succeeds.
 *
 * Writing the cache costs the run that writes it (serialising, flushing): a bundle's code is kept
 * only from its second run for a command on, as browsers keep only scripts they see again, so a
 * CI job that calls msal-ts once pays nothing for runs that will never come.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path'
import { Script } from 'node:vm'

/**
 * How undici's vendor bundle tells this cache that it is about to turn Node 20's optimising
 * WebAssembly compiler off (`--liftoff-only`). V8 takes cached code only under the settings it was
 * made under, and turning the flag back off does not restore them (it implied others): code
 * compiled before the change is serialised before it, the rest when the process ends.
 */
const hook = Symbol.for('msal-ts.compile-cache')

interface CompileCacheHook {
  beforeLiftoffOnly(): void
}

/**
 * Node's CommonJS loader, as `module.constructor` gives it to a CommonJS file: importing the public
 * node:module instead would load Node's ES module loader too, a cost on every run.
 */
export interface CommonJsLoader {
  wrap(source: string): string
  createRequire(filename: string): NodeJS.Require
  prototype: { _compile: Compile }
}

/** The file the build writes beside the bundles: each bundle's path under dist/ and its digest. */
const compileKeysFile = 'compile-keys.json'

interface Compiled {
  file: string
  family: string
  script: Script
  /** Serialised already, when V8's settings were about to change. */
  data?: Buffer
}

/**
 * From now on, the bundles under `distDir` are compiled with the code cached for this `use` (the
 * command being run, as each command compiles other functions of the same bundle), and the code
 * compiled afresh is cached, once the run has succeeded.
 */
export function cacheCompiledCode(distDir: string, use: string, loader: CommonJsLoader): void {
  const keys = compileKeys(distDir)
  const temporary = temporaryDirectory()
  const dir =
    keys && isAbsolute(temporary)
      ? privateDirectory(join(temporary, `msal-ts-compile-cache-${process.getuid?.() ?? 'user'}`))
      : undefined
  if (keys === undefined || dir === undefined) {
    return
  }
  const fresh: Compiled[] = []
  /** Families (bundle and command) with no file yet: a run marks them seen, the next one caches. */
  const firstSight = new Set<string>()
  let families: string[] | undefined
  const seen = (family: string) =>
    (families ??= readdirOrEmpty(dir)).some((name) => name.startsWith(family))
  let liftoffOnly = false
  const proto = loader.prototype
  const compile = proto._compile
  const wrapperLength = loader.wrap('').indexOf('{') + 1
  proto._compile = function (content, filename) {
    const key = keys.get(relative(distDir, filename).split(sep).join('/'))
    // Node 20 loses import() in code taken from a cache: a file that imports is compiled as usual.
    if (key === undefined || content.includes('import(')) {
      return compile.call(this, content, filename)
    }
    const family = familyOf(filename, use)
    const file = join(dir, `${family}${buildOf(filename, key, liftoffOnly)}`)
    const cachedData = intact(readBounded(file, headerBytes + content.length * 4))
    const script = new Script(loader.wrap(content), {
      filename,
      // Stack traces (--verbose) point into the file, not into the wrapper's first line.
      columnOffset: -wrapperLength,
      ...(cachedData !== undefined ? { cachedData } : {}),
    })
    if (cachedData === undefined || script.cachedDataRejected === true) {
      if (seen(family)) {
        fresh.push({ file, family, script })
      } else {
        firstSight.add(family)
      }
    }
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown
    return wrapper.call(
      this.exports,
      this.exports,
      loader.createRequire(filename),
      this,
      filename,
      dirname(filename),
    )
  }
  const hooks: CompileCacheHook = {
    beforeLiftoffOnly() {
      for (const compiled of fresh) {
        compiled.data ??= serialised(compiled.script)
      }
      liftoffOnly = true
    },
  }
  ;(globalThis as Record<symbol, unknown>)[hook] = hooks
  // Only what a run that succeeded compiled: a mistyped command would only leave files behind.
  process.once('exit', (code) => {
    if (code === 0) {
      fresh.forEach(save)
      firstSight.forEach((family) => markSeen(join(dir, `${family}seen`)))
    }
  })
}

/** The digests the build listed, by path under dist/; undefined when there is no usable list. */
function compileKeys(distDir: string): Map<string, string> | undefined {
  try {
    const listed: unknown = JSON.parse(readFileSync(join(distDir, compileKeysFile), 'utf8'))
    if (typeof listed !== 'object' || listed === null || Array.isArray(listed)) {
      return undefined
    }
    const keys = new Map<string, string>()
    for (const [path, digest] of Object.entries(listed)) {
      if (typeof digest === 'string' && /^[0-9a-f]{16,64}$/.test(digest)) {
        keys.set(path, digest)
      }
    }
    return keys
  } catch {
    return undefined
  }
}

/**
 * os.tmpdir() as Node works it out on POSIX, without loading node:os on every run for it; Windows
 * has rules of its own, left to Node.
 */
function temporaryDirectory(): string {
  if (process.platform === 'win32') {
    return process.getBuiltinModule('node:os').tmpdir()
  }
  const path = process.env['TMPDIR'] || process.env['TMP'] || process.env['TEMP'] || '/tmp'
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

/** What the loader's `_compile` is called on. */
interface CompiledModule {
  exports: unknown
}

type Compile = (this: CompiledModule, content: string, filename: string) => unknown

/**
 * The bundle, where it is installed, and the command the code was compiled for: a family holds one
 * file at a time, so two installs of msal-ts on one machine would otherwise evict each other's.
 */
function familyOf(filename: string, use: string): string {
  const command = /^[a-z][a-z-]{0,40}$/.test(use) ? use : '-'
  return `${basename(filename)}.${command}.${pathHash(dirname(filename))}.`
}

/** FNV-1a: a short name for a directory, not a secret (the cache directory is the user's alone). */
function pathHash(path: string): string {
  let hash = 0x811c9dc5
  for (let index = 0; index < path.length; index += 1) {
    hash = Math.imul(hash ^ path.charCodeAt(index), 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

/**
 * The build of the bundle (its digest, and its size and time should it be edited after the build),
 * of Node, and the V8 setting the code is compiled under.
 */
function buildOf(filename: string, digest: string, liftoffOnly: boolean): string {
  const { size, mtimeMs } = statSync(filename)
  const parts = [process.version, process.arch, digest, size, Math.trunc(mtimeMs)]
  return [...parts, liftoffOnly ? 'l' : 'd'].join('.')
}

function serialised(script: Script): Buffer | undefined {
  try {
    return script.createCachedData()
  } catch {
    return undefined
  }
}

/** A writer killed mid-write leaves its temporary file; after this long it is nobody's. */
const abandonedMs = 10 * 60 * 1000

function save(compiled: Compiled): void {
  const { file, family } = compiled
  const data = compiled.data ?? serialised(compiled.script)
  const header = data && headerOf(data)
  if (data === undefined || header === undefined) {
    return
  }
  try {
    const dir = dirname(file)
    // Older builds of the same bundle, or another Node's, are of no use any more.
    for (const name of readdirSync(dir)) {
      if (name.startsWith(family) && join(dir, name) !== file && !inUse(join(dir, name))) {
        rmSync(join(dir, name), { force: true })
      }
    }
    const temporary = `${file}.${process.pid}.tmp`
    const fd = openSync(temporary, 'w', 0o600)
    try {
      writeSync(fd, header)
      writeSync(fd, data)
      // Named only once on disk whole: V8 would run what a torn file holds.
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    try {
      renameSync(temporary, file)
    } catch {
      // Something that is no file holds the name (a directory): nothing is left behind either.
      rmSync(temporary, { force: true })
    }
  } catch {
    // A cache that cannot be written is a cache not used next time, nothing more.
  }
}

function markSeen(file: string): void {
  try {
    closeSync(openSync(file, 'w', 0o600))
  } catch {
    // Not marked: the next run marks it instead.
  }
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** A temporary file another run may still be writing. */
function inUse(path: string): boolean {
  if (!path.endsWith('.tmp')) {
    return false
  }
  try {
    return Date.now() - lstatSync(path).mtimeMs < abandonedMs
  } catch {
    return false
  }
}

/**
 * A file's header: the CRC-32 of the code after it, and the code's length. Eight bytes, so the code
 * V8 reads stays aligned as V8 wants it (it copies code that is not).
 */
const headerBytes = 8

function headerOf(data: Buffer): Buffer | undefined {
  const crc = crc32(data)
  if (crc === undefined) {
    return undefined
  }
  const header = Buffer.alloc(headerBytes)
  header.writeUInt32LE(crc, 0)
  header.writeUInt32LE(data.length, 4)
  return header
}

/** The code a file holds, when it is what its header says was written; otherwise undefined. */
function intact(bytes: Buffer | undefined): Buffer | undefined {
  if (bytes === undefined || bytes.length <= headerBytes) {
    return undefined
  }
  const data = bytes.subarray(headerBytes)
  const whole = bytes.readUInt32LE(4) === data.length && bytes.readUInt32LE(0) === crc32(data)
  return whole ? data : undefined
}

interface ZlibBinding {
  crc32(data: Uint8Array, value: number): number
}

let zlibBinding: ZlibBinding | null | undefined

/**
 * zlib's CRC-32, undefined where it cannot be had (then nothing is cached or read). A CRC because
 * this only looks for damage, not for an attacker: the directory is the user's alone. zlib.crc32
 * itself would load node:zlib, and node:stream with it, about 3 ms on every run; its native half
 * is reached here as zlib.crc32 reaches it, through the binding Node 20 still lends to
 * process.binding. The cache runs only before Node 22: on Node 20, whose line no longer changes,
 * and on Node 21, which has no crc32 and so caches nothing.
 */
function crc32(data: Buffer): number | undefined {
  zlibBinding ??= loadZlibBinding()
  return zlibBinding === null ? undefined : zlibBinding.crc32(data, 0)
}

function loadZlibBinding(): ZlibBinding | null {
  const { noDeprecation } = process
  // Under --pending-deprecation, process.binding warns on stderr: msal-ts writes only its own lines.
  process.noDeprecation = true
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding('zlib')
    // Node before 20.15 has no crc32 (its arguments are checked by an abort, hence a Buffer and 0).
    return typeof (binding as Partial<ZlibBinding> | undefined)?.crc32 === 'function'
      ? (binding as ZlibBinding)
      : null
  } catch {
    // A policy or the permission model takes process.binding away.
    return null
  } finally {
    process.noDeprecation = noDeprecation
  }
}

/** A regular file's bytes, when it has no more than `maxBytes`; otherwise undefined. */
function readBounded(file: string, maxBytes: number): Buffer | undefined {
  let fd: number
  try {
    // Not blocking: a FIFO in the file's place would otherwise hold the run until someone writes.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch {
    return undefined
  }
  try {
    const stat = fstatSync(fd)
    const { size } = stat
    if (!stat.isFile() || size === 0 || size > maxBytes) {
      return undefined
    }
    const data = Buffer.allocUnsafe(size)
    return readSync(fd, data, 0, size, 0) === size ? data : undefined
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** The directory, made if missing, when only this user can write in it; otherwise undefined. */
function privateDirectory(dir: string): string | undefined {
  try {
    // Made once; every later run only looks at it.
    let stat = lstatSync(dir, { throwIfNoEntry: false })
    if (stat === undefined) {
      try {
        mkdirSync(dir, { mode: 0o700 })
      } catch (error) {
        // Made by another run meanwhile: looked at below like any other.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          return undefined
        }
      }
      stat = lstatSync(dir)
    }
    const uid = process.getuid?.()
    const ours = uid === undefined || stat.uid === uid
    return stat.isDirectory() && ours && (stat.mode & 0o077) === 0 ? dir : undefined
  } catch {
    return undefined
  }
}
