/**
 * Where the engine keeps documents between runs (the token cache, the HTTP cache). The file store in
 * storage/cache-store.ts is the CLI's; a library user may pass any object of this shape.
 */
export interface JsonStore {
  /** The document, or undefined when there is none yet. */
  read(): Promise<Record<string, unknown> | undefined>
  /** Runs fn exclusively across every process sharing the store. */
  withLock<T>(fn: () => Promise<T>): Promise<T>
  /** Replaces the document; called inside withLock. */
  write(document: Record<string, unknown>): Promise<void>
  /** Lets go of connections (a Redis store); called by ClientApplication.close(). */
  close?(): Promise<void>
}

/** A store that lives as long as the process: `--no-cache`, and the default for library users. */
export function memoryStore(): JsonStore {
  let document: Record<string, unknown> | undefined
  let queue: Promise<unknown> = Promise.resolve()
  return {
    read: () => Promise.resolve(document === undefined ? undefined : structuredClone(document)),
    withLock<T>(fn: () => Promise<T>): Promise<T> {
      const run = queue.then(fn)
      queue = run.catch(() => undefined)
      return run
    },
    write(next) {
      document = structuredClone(next)
      return Promise.resolve()
    },
  }
}
