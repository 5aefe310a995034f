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

/** The PEM labels OpenSSL reads a trusted certificate from; other blocks (keys) it skips. */
const certificateLabels = new Set(['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE'])

/**
 * Node's TLS stops reading a bundle at the first block it cannot read, silently: the CAs after it
 * would be dropped and the server blamed. So each block is read here as OpenSSL reads it: a BEGIN
 * line, base64 lines, the END line of the same label at the start of a line; and a certificate
 * block must hold a certificate (with, in a TRUSTED one, its trust settings after it).
 */
function certificatesProblem(pem: string): string | undefined {
  let certificates = 0
  let blocks = 0
  for (let at = pem.indexOf('-----BEGIN '); at >= 0; at = pem.indexOf('-----BEGIN ', at)) {
    const beginEnd = lineEnd(pem, at)
    const label = /^-----BEGIN ([^-]+)-----$/.exec(pem.slice(at, beginEnd).trimEnd())?.[1]
    if ((at > 0 && pem[at - 1] !== '\n') || label === undefined) {
      // Not a BEGIN line: text between blocks, which OpenSSL skips too.
      at = beginEnd
      continue
    }
    blocks++
    const isCertificateBlock = certificateLabels.has(label)
    certificates += isCertificateBlock ? 1 : 0
    const name = isCertificateBlock ? `certificate ${certificates}` : `block ${blocks}`
    // Base64 has no '-': the next dashes are on the line that must be the END line.
    const dashes = pem.indexOf('-----', beginEnd)
    if (dashes < 0) {
      return `${name} in it has no END ${label} line`
    }
    const endStart = pem.lastIndexOf('\n', dashes) + 1
    const endEnd = lineEnd(pem, endStart)
    if (pem.slice(endStart, endEnd).trimEnd() !== `-----END ${label}-----`) {
      return `${name} in it has no END ${label} line at the start of a line`
    }
    const der = strictBase64(pem.slice(beginEnd, endStart))
    if (der === undefined) {
      return `${name} in it is not valid base64`
    }
    if (isCertificateBlock && !isCertificate(der, label)) {
      return `${name} in it is not a certificate`
    }
    at = endEnd
  }
  return certificates === 0 ? 'no certificate in it' : undefined
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from)
  return end < 0 ? text.length : end
}

function strictBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '')
  return compact.length > 0 && compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)
    ? Buffer.from(compact, 'base64')
    : undefined
}

/**
 * An X.509 certificate's outline: a SEQUENCE of the signed part (a SEQUENCE), the signature
 * algorithm (a SEQUENCE) and the signature (a BIT STRING), and nothing after it but, in a TRUSTED
 * CERTIFICATE, one SEQUENCE of trust settings.
 */
function isCertificate(der: Buffer, label: string): boolean {
  const outer = element(der, 0)
  if (outer?.tag !== 0x30) {
    return false
  }
  const after = outer.end === der.length ? undefined : element(der, outer.end)
  const whole =
    after === undefined
      ? outer.end === der.length
      : label === 'TRUSTED CERTIFICATE' && after.tag === 0x30 && after.end === der.length
  if (!whole) {
    return false
  }
  const parts = [0x30, 0x30, 0x03]
  let at = outer.start
  for (const tag of parts) {
    const part = element(der, at)
    if (part?.tag !== tag || part.end > outer.end) {
      return false
    }
    at = part.end
  }
  return at === outer.end
}

/** A DER element at `at`: its tag, where its contents start, and where it ends. */
function element(der: Buffer, at: number): { tag: number; start: number; end: number } | undefined {
  const tag = der[at]
  const first = der[at + 1]
  if (tag === undefined || first === undefined) {
    return undefined
  }
  let length = first
  let start = at + 2
  if (first >= 0x80) {
    const bytes = first & 0x7f
    if (bytes === 0 || bytes > 4 || start + bytes > der.length) {
      return undefined
    }
    length = 0
    for (let index = 0; index < bytes; index++) {
      length = length * 256 + (der[start + index] ?? 0)
    }
    start += bytes
  }
  const end = start + length
  return end <= der.length ? { tag, start, end } : undefined
}
