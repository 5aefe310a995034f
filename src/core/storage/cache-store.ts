/**
 * The only module that touches a cache file: JSON documents persisted safely across processes.
 *
 * Reads take no lock (every write is an atomic rename, so a reader sees the old file or the new
 * one, never half of one). Writes happen under a cross-process lock (`<file>.lock` beside the file
 * the path leads to, links followed: a directory kept fresh by proper-lockfile; a lock whose
 * holder died is taken over once it goes stale).
 * proper-lockfile is loaded on first use only, so the fast path (reading a healthy cache) loads
 * nothing but node:fs.
 */
import { nestsTooDeep } from '../kernel/json-depth.js'
import { AsyncLocalStorage } from 'node:async_hooks'
// fs's callbacks, not node:fs/promises: loading that (and the readline and watcher modules it
// brings) cost two milliseconds of every run that writes a cache.
import { lstat, rename } from 'node:fs'
import { promisify } from 'node:util'
import { dirname } from 'node:path'
// Types only: the module itself is loaded on first use (see loadLockModule).
import type ProperLockfile from 'proper-lockfile'

import { linkTarget, writeFileAtomically } from '../kernel/atomic-file.js'
import { makeDirectories } from '../kernel/directories.js'
import { errorCode, fileProblem } from '../kernel/file-problem.js'
import { RuntimeFailure, UsageError } from '../kernel/errors.js'
import {
  UnsafeFile,
  absolutePath,
  checkFile,
  maxCacheBytes,
  readFileSafely,
} from '../kernel/safe-file.js'

export interface JsonFileStoreOptions {
  path: string
  /** Reported once per corrupt file that was moved aside. */
  onWarning?: (message: string) => void
  /**
   * A lock whose holder stopped refreshing it for this long is taken over. Default 10_000.
   * proper-lockfile does not go below 2_000.
   */
  lockStaleMs?: number
  /** Longest wait for the lock before failing with RuntimeFailure('cache_locked', ...). Default 60_000. */
  lockWaitMs?: number
  /**
   * What is wrong with a JSON object that is not the document this store holds (a section of the
   * wrong type, say), or undefined when it is fine. Such a file is corrupt too.
   */
  shapeProblem?: (document: Record<string, unknown>) => string | undefined
}

export interface JsonFileStore {
  readonly path: string
  /**
   * The document, or undefined when the file does not exist (or is empty, as MSAL Python reads
   * it). Takes no lock. A file that is not a JSON object is corrupt: it is moved aside to
   * `<path>.corrupt-<YYYYMMDDTHHMMSSZ>` (never deleted; `-2`, `-3`... is appended if that name is
   * taken), onWarning is called once, and the read returns undefined. The move happens under the
   * lock, after re-reading, so a file another process already replaced is returned, not moved.
   */
  read(): Promise<Record<string, unknown> | undefined>
  /**
   * Runs fn while holding the cross-process lock. Waiters retry with bounded back-off for up to
   * lockWaitMs; a stale lock left by a killed process is recovered. Re-entrant: a nested call for
   * the same file runs fn directly.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>
  /**
   * Atomic write (temp file in the same directory, then rename), mode 0600, parent directories
   * created 0700, 4-space indentation like MSAL Python. Only inside withLock; fails with
   * RuntimeFailure('cache_lock_lost', ...) if the lock was taken over meanwhile.
   */
  write(document: Record<string, unknown>): Promise<void>
}

const defaultLockStaleMs = 10_000
const defaultLockWaitMs = 60_000
const firstRetryDelayMs = 20
const maxRetryDelayMs = 500
const maxVanished = 5

interface HeldLock {
  /** Set by proper-lockfile when another process took the lock over, or its refresh failed. */
  compromised: Error | undefined
}

/** The locks held by the current async context, by absolute cache path. */
const heldLocks = new AsyncLocalStorage<ReadonlyMap<string, HeldLock>>()

type LockModule = typeof ProperLockfile
let lockModule: Promise<LockModule> | undefined

function loadLockModule(): Promise<LockModule> {
  lockModule ??= import('proper-lockfile').then((module) => module.default)
  return lockModule
}

export function openJsonFileStore(options: JsonFileStoreOptions): JsonFileStore {
  if (options.path === '') {
    throw new UsageError('cache_file', 'the cache file path is empty')
  }
  const path = absolutePath(options.path)
  const lockStaleMs = positive(options.lockStaleMs, defaultLockStaleMs, 'lockStaleMs')
  const lockWaitMs = positive(options.lockWaitMs, defaultLockWaitMs, 'lockWaitMs')
  const warn = options.onWarning ?? (() => {})
  const shapeProblem = options.shapeProblem ?? (() => undefined)

  /** The problem that makes `document` (from parseDocument) corrupt, if any. */
  function problemOf(document: Record<string, unknown> | undefined): string | undefined {
    if (document === undefined) {
      return 'was not a JSON object'
    }
    return document === empty ? undefined : shapeProblem(document)
  }

  async function withLock<T>(fn: () => Promise<T>): Promise<T> {
    // The file a link at the path leads to, as the write goes through to it: two names of one
    // file (a link and its target) take one lock, and a nested call through either holds it.
    let locked: string
    try {
      locked = linkTarget(path)
    } catch (error) {
      throw fileError(error, 'lock', path)
    }
    const held = heldLocks.getStore()
    if (held?.has(locked)) {
      return fn()
    }

    makeParentDirectory(locked)
    const lockfile = await loadLockModule()
    const state: HeldLock = { compromised: undefined }
    const lockOptions = {
      stale: lockStaleMs,
      update: Math.floor(lockStaleMs / 2),
      realpath: false,
      retries: 0,
      onCompromised: (error: Error) => {
        state.compromised = error
      },
    }

    const deadline = Date.now() + lockWaitMs
    let vanished = 0
    let delay = firstRetryDelayMs
    let release: () => Promise<void>
    for (;;) {
      try {
        release = await lockfile.lock(locked, lockOptions)
        break
      } catch (error) {
        // ENOENT, a few times: a stale lock another process was taking over vanished under
        // proper-lockfile. More often, the directory itself is going away.
        const code = errorCode(error)
        if (code !== 'ELOCKED' && (code !== 'ENOENT' || ++vanished > maxVanished)) {
          throw fileError(error, 'lock', path)
        }
        const remaining = deadline - Date.now()
        if (remaining <= 0) {
          throw new RuntimeFailure(
            'cache_locked',
            `timed out after ${seconds(lockWaitMs)} waiting for the lock on cache file ${path} ` +
              `(another process holds ${locked}.lock)`,
          )
        }
        await sleep(Math.min(remaining, delay * (0.5 + Math.random())))
        delay = Math.min(delay * 1.5, maxRetryDelayMs)
      }
    }

    try {
      const inner = new Map(held ?? [])
      inner.set(locked, state)
      return await heldLocks.run(inner, fn)
    } finally {
      // A lock that was compromised is already released; one that cannot be removed goes stale.
      await release().catch(() => {})
    }
  }

  async function write(document: Record<string, unknown>): Promise<void> {
    let target: string
    try {
      target = linkTarget(path)
    } catch (error) {
      throw fileError(error, 'write', path)
    }
    const held = heldLocks.getStore()
    const state = held?.get(target)
    if (state === undefined && held !== undefined && held.size > 0) {
      // The path is a link someone pointed elsewhere since the lock was taken on where it led.
      throw new RuntimeFailure(
        'cache_lock_lost',
        `cache file ${path} now leads to another file than the one locked; the cache was not written`,
      )
    }
    if (state === undefined) {
      throw new RuntimeFailure(
        'cache_not_locked',
        `internal error: wrote cache file ${path} without its lock`,
      )
    }
    if (state.compromised !== undefined) {
      throw lockLost(path, state.compromised)
    }

    let text: string
    try {
      text = JSON.stringify(document, null, 4)
    } catch (error) {
      throw new RuntimeFailure('cache_io', `cannot serialise the document for cache file ${path}`, {
        cause: error,
      })
    }

    makeParentDirectory(target)
    try {
      checkFile(path, cacheFileRules)
    } catch (error) {
      throw fileError(error, 'write', path)
    }
    // Checked again: the lock may have been taken over while this write was waiting.
    if (state.compromised !== undefined) {
      throw lockLost(path, state.compromised)
    }
    try {
      // Under the lock no one else writes the file: a new file left beside it was a killed run's.
      await writeFileAtomically(path, text, { mode: 0o600, removeAbandoned: true })
    } catch (error) {
      throw fileError(error, 'write', path)
    }
  }

  /** Moves a corrupt file aside, unless another process has replaced it meanwhile. */
  async function quarantine(): Promise<Record<string, unknown> | undefined> {
    return withLock(async () => {
      const text = readText(path)
      if (text === undefined) {
        return undefined
      }
      const document = parseDocument(text)
      const problem = problemOf(document)
      if (problem === undefined) {
        return document === empty ? undefined : document
      }

      const stamp = utcStamp(new Date())
      // The file itself, beside itself: a link at the path stays, to be written through afresh.
      const corrupt = linkTarget(path)
      let target = `${corrupt}.corrupt-${stamp}`
      // Under the lock nobody else quarantines, so checking before the rename is enough.
      for (let n = 2; await exists(target); n++) {
        target = `${corrupt}.corrupt-${stamp}-${n}`
      }
      try {
        await promisify(rename)(corrupt, target)
      } catch (error) {
        throw fileError(error, 'move aside corrupt', path)
      }
      warn(`cache file ${path} ${problem}; moved it to ${target} and started afresh`)
      return undefined
    })
  }

  async function read(): Promise<Record<string, unknown> | undefined> {
    const text = readText(path)
    if (text === undefined) {
      return undefined
    }
    const document = parseDocument(text)
    if (problemOf(document) !== undefined) {
      return quarantine()
    }
    return document === empty ? undefined : document
  }

  return { path, read, withLock, write }
}

/** A file holding only white space: no document yet (MSAL Python reads it as an empty cache). */
const empty: Record<string, unknown> = Object.freeze({})

/**
 * The document, `empty`, or undefined when the text is not a JSON object, or one nested too deep to
 * be written back.
 */
function parseDocument(text: string): Record<string, unknown> | undefined {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  if (body.trim() === '') {
    return empty
  }
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || nestsTooDeep(value)) {
    return undefined
  }
  return value as Record<string, unknown>
}

/** A cache file holds tokens: only a regular file of the user's own, and of a sane size, is read. */
const cacheFileRules = { maxBytes: maxCacheBytes, ownFile: true }

/**
 * A synchronous read: a cache file is small, and skipping the thread pool (and the load of
 * node:fs/promises) is a measurable part of answering a cached token quickly.
 */
function readText(path: string): string | undefined {
  try {
    return readFileSafely(path, cacheFileRules)
  } catch (error) {
    throw fileError(error, 'read', path)
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await promisify(lstat)(path)
    return true
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return false
    }
    throw fileError(error, 'inspect', path)
  }
}

/**
 * The directories the file goes in (makeDirectories: each 0700, one at a time), in place as the
 * atomic write's steps are, since a thread-pool trip costs more than the call.
 */
function makeParentDirectory(path: string): void {
  try {
    makeDirectories(dirname(path))
  } catch (error) {
    throw fileError(error, 'create the directory of', path)
  }
}

function fileError(error: unknown, verb: string, path: string): Error {
  if (error instanceof RuntimeFailure || error instanceof UsageError) {
    return error
  }
  const { usage, reason } = fileProblem(error)
  if (error instanceof UnsafeFile && !usage) {
    // Someone else's file, or one planted to hang or flood us: refused like ssh refuses such a key.
    return new RuntimeFailure('unsafe_cache_file', `refusing cache file ${path}: ${error.reason}`)
  }
  const message = `cannot ${verb} cache file ${path}: ${reason}`
  return usage
    ? new UsageError('cache_file', message, { cause: error })
    : new RuntimeFailure('cache_io', message, { cause: error })
}

function lockLost(path: string, cause: Error): RuntimeFailure {
  return new RuntimeFailure(
    'cache_lock_lost',
    `lost the lock on cache file ${path} (another process took it over); the cache was not written`,
    { cause },
  )
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) {
    return fallback
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new UsageError('cache_options', `${name} must be a non-negative number of milliseconds`)
  }
  return value
}

/** `YYYYMMDDTHHMMSSZ`, in UTC. */
function utcStamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
