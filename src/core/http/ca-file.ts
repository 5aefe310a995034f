import { UsageError } from '../kernel/errors.js'
import { maxCacheBytes, readFileSafely } from '../kernel/safe-file.js'

/** Reads CA bundles for `--ca-file`; a bad path is the caller's mistake. */
export function readCaFile(path: string): string {
  try {
    const pem = readFileSafely(path, { maxBytes: maxCacheBytes })
    if (pem === undefined) {
      throw new Error('no such file')
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error('no certificate in it')
    }
    return pem
  } catch (error) {
    throw new UsageError('ca_file', `cannot use the CA file ${path}: ${(error as Error).message}`)
  }
}
