import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { systemClock } from '../../core/kernel/clock.js'
import type { Io } from '../shared/io.js'
import { type CacheHit, tokenFromCache } from '../token-from-cache.js'
import { type Memo, maxMemos, maxPaths, memoPath, readMemos, writeMemos } from './memo-file.js'
import { processIds, writeAnswer } from './replay.js'
import { type Look, signatureOf } from './signature.js'

/**
 * The cache-hit path, watched: each file it reads, each path it checks and each variable it reads
 * is noted, so that the next run asked the same way can tell from those alone that the answer is
 * the same (replay.ts). True when it answered.
 *
 * What the hit does not tell by itself is caught rather than listed: every fs function is watched
 * while it runs, and anything but a look at a path or a read of an open file (a write, a listing,
 * a stream), a word on stderr, or a question about the terminal leaves no memo.
 */
export async function answerAndRemember(
  args: readonly string[],
  io: Io,
  code: string,
): Promise<boolean> {
  const watch = new Watch(Date.now())
  if (args.some(holdsPassword)) {
    watch.spoil('a password in the arguments')
  }
  const answer = await watch.during(io, (watched) => tokenFromCache(args, watched))
  if (answer?.hit !== undefined && watch.usable) {
    try {
      remember(args, io, answer.hit, watch, code)
    } catch {
      // A memo is a shortcut only: the answer is out, and the next run takes the usual way.
    }
  }
  return answer !== undefined
}

function remember(
  args: readonly string[],
  io: Io,
  hit: CacheHit,
  watch: Watch,
  code: string,
): void {
  // Another version answers anew: the memo is of this install's code, as it is now.
  watch.look('stat', code)
  const now = systemClock()
  const path = memoPath(io)
  // Had the watch missed the hit's reads (fs reached some other way), it would not have seen the
  // token file read either: then there is nothing a memo could be checked against.
  const sawTokenFile = watch.paths.has(`stat${separator}${hit.tokenFile}`)
  if (path === undefined || !watch.usable || !sawTokenFile || now >= hit.until) {
    return
  }
  const memo: Memo = {
    args: [...args],
    code,
    cwd: process.cwd(),
    ids: processIds(),
    env: [...watch.env],
    paths: [...watch.paths].map(([key, seen]) => [...lookAndPath(key), seen]),
    until: hit.until,
    tokenFile: hit.tokenFile,
    tokenKey: hit.tokenKey,
    account: hit.account,
    format: hit.format,
  }
  // The memo must print what was printed: checked here, once, rather than assumed.
  let again = ''
  writeAnswer({ stdout: { write: (text: string) => (again += text) } }, memo, hit.token, now)
  if (again !== watch.printed || memo.paths.length > maxPaths) {
    return
  }
  const others = readMemos(path).filter((m) => !sameQuestion(m, memo))
  writeMemos(path, [memo, ...others].slice(0, maxMemos))
}

function sameQuestion(a: Memo, b: Memo): boolean {
  return (
    JSON.stringify([a.args, a.cwd, a.ids, a.env]) === JSON.stringify([b.args, b.cwd, b.ids, b.env])
  )
}

const separator = '\0'

function lookAndPath(key: string): [Look, string] {
  const at = key.indexOf(separator)
  return [key.slice(0, at) as Look, key.slice(at + 1)]
}

/** fs functions by what they do to the path they are given. */
const looks: Record<string, Look> = {
  access: 'stat',
  exists: 'stat',
  open: 'stat',
  readFile: 'stat',
  stat: 'stat',
  lstat: 'lstat',
  readlink: 'lstat',
  realpath: 'realpath',
}
/** Reads of a file already open: what it holds was told by the look that opened it. */
const descriptorReads = new Set(['close', 'fstat', 'read'])
const writeFlags =
  fs.constants.O_WRONLY |
  fs.constants.O_RDWR |
  fs.constants.O_CREAT |
  fs.constants.O_TRUNC |
  fs.constants.O_APPEND
/**
 * A file changed this recently may change again within the same tick of the file system's clock
 * (a few ms on Linux, 2 s on FAT) and keep its signature: it is not relied on until it has settled.
 */
const settleMs = 3000

/** What a run did, as far as a memo of it is concerned: exported for its tests. */
export class Watch {
  /** Why no memo may be kept of this run, if anything says so. */
  readonly spoiled: string[] = []
  printed = ''
  readonly env = new Map<string, string | null>()
  /** `${look}\0${path}` → what was seen. */
  readonly paths = new Map<string, string>()
  readonly #settledBeforeMs: number
  #inside = false

  constructor(startMs: number) {
    this.#settledBeforeMs = startMs - settleMs
  }

  get usable(): boolean {
    return this.spoiled.length === 0
  }

  spoil(reason: string): void {
    this.spoiled.push(reason)
  }

  async during<T>(io: Io, fn: (watched: Io) => Promise<T>): Promise<T> {
    const undo = [...this.#watchFs(fs, 'callback'), ...this.#watchFs(fs.promises, 'promise')]
    // ES modules' named imports of node:fs see the watched functions too, not only the bundle's.
    syncBuiltinESMExports()
    const env = process.env
    const watchedEnv = this.#watchEnv(io.env)
    // A replay compares the variables with the process's own: a run given others is not memoised.
    if (io.env !== env) {
      this.spoil('an environment other than the process one')
    }
    process.env = watchedEnv
    try {
      return await fn(this.#watchIo(io, watchedEnv))
    } finally {
      process.env = env
      for (const step of undo.reverse()) {
        step()
      }
      syncBuiltinESMExports()
    }
  }

  /** What the look sees now; a path seen otherwise before, or changed too recently, spoils the memo. */
  look(look: Look, path: string): string {
    this.#inside = true
    try {
      const seen = signatureOf(look, path)
      const key = `${look}${separator}${path}`
      const before = this.paths.get(key)
      if (
        (before !== undefined && before !== seen.text) ||
        (seen.changedMs ?? 0) > this.#settledBeforeMs
      ) {
        this.spoil(`${path} changed lately`)
      }
      this.paths.set(key, seen.text)
      return seen.text
    } finally {
      this.#inside = false
    }
  }

  #watchFs(target: object, style: 'callback' | 'promise'): (() => void)[] {
    const undo: (() => void)[] = []
    const record = target as Record<string, unknown>
    for (const name of Object.keys(record)) {
      const descriptor = Object.getOwnPropertyDescriptor(record, name)
      const original = descriptor?.value as ((...args: unknown[]) => unknown) | undefined
      // Classes (Stats, ReadStream) are made, not called on a path.
      if (typeof original !== 'function' || !descriptor?.writable || /^[A-Z]/.test(name)) {
        continue
      }
      const base = name.replace(/Sync$/, '')
      const sync = name.endsWith('Sync')
      const watched = this.#watchCall(base, original, style, sync)
      // realpathSync.native and realpath.native
      for (const [key, value] of Object.entries(original)) {
        if (typeof value === 'function') {
          Object.assign(watched, {
            [key]: this.#watchCall(base, value as typeof original, style, sync),
          })
        }
      }
      record[name] = watched
      undo.push(() => {
        record[name] = original
      })
    }
    return undo
  }

  #watchCall(
    base: string,
    original: (...args: unknown[]) => unknown,
    style: 'callback' | 'promise',
    sync: boolean,
  ): (...args: unknown[]) => unknown {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper keeps fs's `this`
    const watch = this
    return function (this: unknown, ...args: unknown[]) {
      if (watch.#inside) {
        return original.apply(this, args)
      }
      const look = looks[base]
      const [path, flags] = args
      if (look === undefined || typeof path !== 'string' || (base === 'open' && !readOnly(flags))) {
        if (!(descriptorReads.has(base) || (base === 'write' && path === 1))) {
          watch.spoil(`fs.${base}`)
        }
        return original.apply(this, args)
      }
      const before = watch.look(look, path)
      const after = () => {
        if (watch.look(look, path) !== before) {
          watch.spoil(`${path} changed while read`)
        }
      }
      if (sync) {
        try {
          return original.apply(this, args)
        } finally {
          after()
        }
      }
      if (style === 'promise') {
        return (original.apply(this, args) as Promise<unknown>).finally(after)
      }
      const callback = args.at(-1)
      if (typeof callback !== 'function') {
        watch.spoil(`fs.${base} without a callback`)
        return original.apply(this, args)
      }
      return original.apply(this, [
        ...args.slice(0, -1),
        (...results: unknown[]) => {
          after()
          ;(callback as (...r: unknown[]) => void)(...results)
        },
      ])
    }
  }

  #watchEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const read = (name: string | symbol) => {
      // A symbol (util.inspect's, Symbol.toStringTag) names no variable.
      if (typeof name !== 'string') {
        return
      }
      if (!this.env.has(name)) {
        const value = env[name] ?? null
        // A memo keeps the values it compares with: never one holding a password (a proxy's URL).
        if (value !== null && holdsPassword(value)) {
          this.spoil(`a password in ${name}`)
        }
        this.env.set(name, value)
      }
    }
    const spoil = (what: string) => this.spoil(`the environment ${what}`)
    return new Proxy(env, {
      get: (target, name) => (read(name), Reflect.get(target, name) as string | undefined),
      has: (target, name) => (read(name), Reflect.has(target, name)),
      getOwnPropertyDescriptor: (target, name) => (
        read(name),
        Reflect.getOwnPropertyDescriptor(target, name)
      ),
      ownKeys: (target) => (spoil('listed'), Reflect.ownKeys(target)),
      set: (target, name, value) => (spoil('changed'), Reflect.set(target, name, value)),
      deleteProperty: (target, name) => (spoil('changed'), Reflect.deleteProperty(target, name)),
      defineProperty: (target, name, attributes) => (
        spoil('changed'),
        Reflect.defineProperty(target, name, attributes)
      ),
    })
  }

  /** The streams as the hit sees them: stdout kept, anything else (stderr, stdin, a terminal) spoils. */
  #watchIo(io: Io, env: NodeJS.ProcessEnv): Io {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters below report here
    const watch = this
    const spoil = (what: string) => watch.spoil(what)
    return {
      env,
      ...(io.signal ? { signal: io.signal } : {}),
      ...(io.colours ? { colours: io.colours } : {}),
      get stdin() {
        spoil('stdin')
        return io.stdin
      },
      get stderr() {
        spoil('stderr')
        return io.stderr
      },
      stderrIsTTY: () => {
        spoil('a terminal on stderr')
        return io.stderrIsTTY?.() ?? false
      },
      stdout: {
        write: (text: string) => {
          watch.printed += text
          return io.stdout.write(text)
        },
        get isTTY() {
          spoil('a terminal on stdout')
          return io.stdout.isTTY
        },
        get columns() {
          spoil('a terminal on stdout')
          return io.stdout.columns
        },
        end: () => {
          spoil('stdout ended')
          io.stdout.end?.()
        },
        requireReader: () => {
          spoil('stdout required')
          io.stdout.requireReader?.()
        },
      },
    }
  }
}

/**
 * Anything that may be a URL's user and password, however a URL parser would still read it
 * (`http://bob:pw@proxy`, `bob:pw@proxy`, ` http:/bob:pw@proxy`, a tab inside, `--proxy=...`), or a
 * user alone after `//`: a memo keeps the words it compares, so a run given one leaves none. An
 * email address has no colon or `//` before its @.
 */
export function holdsPassword(value: string): boolean {
  return /:[^@]*@|\/\/[^/]*@/s.test(value)
}

function readOnly(flags: unknown): boolean {
  if (flags === undefined || flags === 'r') {
    return true
  }
  return typeof flags === 'number' && (flags & writeFlags) === 0
}
