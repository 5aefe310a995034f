/**
 * Node 20's stand-in for the compile cache Node 22 keeps by itself (`module.enableCompileCache`):
 * V8 keeps the code it compiled for msal-ts's bundles in a directory of the user's, and the next
 * run takes it from there instead of parsing and compiling the same bundles again.
 *
 * Compiled code read from a file is code that runs, so the directory must be the user's alone: one
 * that is a link, another user's, or open to others leaves the cache unused. Any failure here only
 * means compiling as usual.
 */
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import Module, { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { Script } from 'node:vm'

/**
 * How undici's vendor bundle tells this cache that it is about to turn Node 20's optimising
 * WebAssembly compiler off (`--liftoff-only`). V8 takes cached code only under the settings it was
 * made under, and turning the flag back off does not restore them (it implied others): code
 * compiled before the change is saved before it, the rest when the process ends.
 */
const hook = Symbol.for('msal-ts.compile-cache')

export interface CompileCacheHook {
  beforeLiftoffOnly(): void
}

interface Compiled {
  file: string
  family: string
  script: Script
}

/**
 * From now on, the bundles under `distDir` are compiled with the code cached for this `use` (the
 * command being run, as each command compiles other functions of the same bundle), and the code
 * compiled afresh is cached, once the run has succeeded.
 */
export function cacheCompiledCode(distDir: string, use: string): void {
  const dir = privateDirectory(
    join(tmpdir(), `msal-ts-compile-cache-${process.getuid?.() ?? 'user'}`),
  )
  if (dir === undefined) {
    return
  }
  let fresh: Compiled[] = []
  let liftoffOnly = false
  const saveFresh = () => {
    fresh.forEach(save)
    fresh = []
  }
  const prefix = join(distDir, '/')
  type Compile = (this: Module, content: string, filename: string) => unknown
  const proto = Module.prototype as unknown as { _compile: Compile }
  const compile = proto._compile
  proto._compile = function (content, filename) {
    // Node 20 loses import() in code taken from a cache: a file that imports is compiled as usual.
    if (!filename.startsWith(prefix) || content.includes('import(')) {
      return compile.call(this, content, filename)
    }
    const family = familyOf(filename, use)
    const file = join(dir, `${family}${buildOf(filename, liftoffOnly)}`)
    const cachedData = readIfPresent(file)
    const script = new Script(Module.wrap(content), {
      filename,
      // Stack traces (--verbose) point into the file, not into the wrapper's first line.
      columnOffset: -wrapperLength,
      ...(cachedData !== undefined ? { cachedData } : {}),
    })
    if (cachedData === undefined || script.cachedDataRejected === true) {
      fresh.push({ file, family, script })
    }
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown
    return wrapper.call(
      this.exports,
      this.exports,
      createRequire(filename),
      this,
      filename,
      dirname(filename),
    )
  }
  const hooks: CompileCacheHook = {
    beforeLiftoffOnly() {
      saveFresh()
      liftoffOnly = true
    },
  }
  ;(globalThis as Record<symbol, unknown>)[hook] = hooks
  // Only what a run that succeeded compiled: a mistyped command would only leave files behind.
  process.once('exit', (code) => {
    if (code === 0) {
      saveFresh()
    }
  })
}

const wrapperLength = Module.wrap('').indexOf('{') + 1

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

/** The build of the bundle, of Node, and the V8 setting the code is compiled under. */
function buildOf(filename: string, liftoffOnly: boolean): string {
  const { size, mtimeMs } = statSync(filename)
  return [process.version, process.arch, size, Math.trunc(mtimeMs), liftoffOnly ? 'l' : 'd'].join(
    '.',
  )
}

function save({ file, family, script }: Compiled): void {
  try {
    const data = script.createCachedData()
    const dir = dirname(file)
    // Older builds of the same bundle, or another Node's, are of no use any more.
    for (const name of readdirSync(dir)) {
      if (name.startsWith(family) && !name.endsWith('.tmp') && join(dir, name) !== file) {
        rmSync(join(dir, name), { force: true })
      }
    }
    const temporary = `${file}.${process.pid}.tmp`
    writeFileSync(temporary, data, { mode: 0o600 })
    renameSync(temporary, file)
  } catch {
    // A cache that cannot be written is a cache not used next time, nothing more.
  }
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

/** The directory, made if missing, when only this user can write in it; otherwise undefined. */
function privateDirectory(dir: string): string | undefined {
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      return undefined
    }
  }
  try {
    const stat = lstatSync(dir)
    const uid = process.getuid?.()
    const ours = uid === undefined || stat.uid === uid
    return stat.isDirectory() && ours && (stat.mode & 0o077) === 0 ? dir : undefined
  } catch {
    return undefined
  }
}
