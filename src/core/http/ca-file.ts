import { UsageError } from '../kernel/errors.js'
import { fileReason } from '../kernel/file-problem.js'
import { maxCacheBytes, readFileSafely } from '../kernel/safe-file.js'

/** Reads CA bundles for `--ca-file`; a bad path or a damaged certificate is the caller's mistake. */
export function readCaFile(path: string): string {
  let pem: string | undefined
  try {
    pem = readFileSafely(path, { maxBytes: maxCacheBytes })
  } catch (error) {
    throw caFileError(path, fileReason(error))
  }
  if (pem === undefined) {
    throw caFileError(path, 'no such file')
  }
  const problem = certificatesProblem(pem)
  if (problem !== undefined) {
    throw caFileError(path, problem)
  }
  return pem
}

function caFileError(path: string, reason: string): UsageError {
  return new UsageError('ca_file', `cannot use the CA file ${path}: ${reason}`)
}

const begin = '-----BEGIN CERTIFICATE-----'
const end = '-----END CERTIFICATE-----'

/**
 * Node's TLS stops reading a bundle at the first block it cannot parse, silently: the CAs after it
 * would be dropped and the server blamed. Each block must hold base64 of one whole DER structure.
 */
function certificatesProblem(pem: string): string | undefined {
  let count = 0
  for (let at = pem.indexOf(begin); at >= 0; at = pem.indexOf(begin, at)) {
    count++
    const bodyStart = at + begin.length
    const bodyEnd = pem.indexOf(end, bodyStart)
    const next = pem.indexOf(begin, bodyStart)
    if (bodyEnd < 0 || (next >= 0 && next < bodyEnd)) {
      return `certificate ${count} in it has no end line`
    }
    if (!isWholeDer(pem.slice(bodyStart, bodyEnd))) {
      return `certificate ${count} in it is not valid base64 DER`
    }
    at = bodyEnd + end.length
  }
  return count === 0 ? 'no certificate in it' : undefined
}

/** A SEQUENCE whose length, as its header states it, is exactly what the base64 holds. */
function isWholeDer(body: string): boolean {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(body)) {
    return false
  }
  const der = Buffer.from(body, 'base64')
  if (der.length < 2 || der[0] !== 0x30) {
    return false
  }
  const first = der[1] ?? 0
  if (first < 0x80) {
    return 2 + first === der.length
  }
  const lengthBytes = first & 0x7f
  if (lengthBytes === 0 || lengthBytes > 4 || der.length < 2 + lengthBytes) {
    return false
  }
  let length = 0
  for (let index = 0; index < lengthBytes; index++) {
    length = length * 256 + (der[2 + index] ?? 0)
  }
  return 2 + lengthBytes + length === der.length
}
