import { readFileSync } from 'node:fs'
import { UsageError } from './errors.js'

/** Reads CA bundles for `--ca-file`; a bad path is the caller's mistake. */
export function readCaFile(path: string): string {
  try {
    const pem = readFileSync(path, 'utf8')
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error('no certificate in it')
    }
    return pem
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : (error as Error).message
    throw new UsageError('ca_file', `cannot use the CA file ${path}: ${why}`)
  }
}
