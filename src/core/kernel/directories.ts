import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { errorCode } from './file-problem.js'

/**
 * The directory and those missing above it, each made 0700 before the next, whatever the umask (a
 * recursive mkdir would leave them as the umask says, unwritable under 0277). Not Node's recursive
 * mkdir either: it loops for ever where the system refuses a name whose parent exists (/proc).
 */
export function makeDirectories(directory: string): void {
  const missing: string[] = []
  for (let at = directory; !statSync(at, { throwIfNoEntry: false }); at = dirname(at)) {
    missing.unshift(at)
    if (dirname(at) === at) {
      break
    }
  }
  for (const made of missing) {
    try {
      mkdirSync(made, { mode: 0o700 })
    } catch (error) {
      // Made by another run meanwhile: theirs, left as it is.
      if (errorCode(error) === 'EEXIST') {
        continue
      }
      throw error
    }
    chmodSync(made, 0o700)
  }
}
