import { UsageError } from '../kernel/errors.js'
import { fileReason } from '../kernel/file-problem.js'
import { maxCacheBytes, readFileSafely } from '../kernel/safe-file.js'

/** Reads CA bundles for `--ca-file`; a bad path or a damaged certificate is the caller's mistake. */
/** `source` names where the path was set (`MSAL_TS_CA_FILE`, `profile work`), for the error. */
export function readCaFile(path: string, source?: string): string {
  let pem: string | undefined
  try {
    pem = readFileSafely(path, { maxBytes: maxCacheBytes, trusted: true })
  } catch (error) {
    throw caFileError(path, fileReason(error), source)
  }
  if (pem === undefined) {
    throw caFileError(path, 'no such file', source)
  }
  const problem = certificatesProblem(pem)
  if (problem !== undefined) {
    throw caFileError(path, problem, source)
  }
  return pem
}

/** Without a source, the caller (the CLI) is told to say where the path came from. */
function caFileError(path: string, reason: string, source: string | undefined): UsageError {
  const from = source === undefined ? '' : ` (from ${source})`
  return new UsageError('ca_file', `cannot use the CA file ${path}${from}: ${reason}`, {
    ...(source === undefined ? { hint: 'ca_file_source' as const } : {}),
  })
}

/** The PEM labels OpenSSL reads a trusted certificate from; other blocks (keys) it skips. */
const certificateLabels = new Set(['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE'])

/**
 * Node's TLS stops reading a bundle at the first block it cannot read, silently: the CAs after it
 * would be dropped and the server blamed. So each block is read here as OpenSSL's PEM reader
 * reads it: a BEGIN line at the start of a line (a byte-order mark before it allowed), headers
 * (`Name: value` lines, then a blank line) in blocks other than certificates, base64 lines with
 * no blank line among them, and the END line of the same label; a certificate block must hold a
 * certificate's outline. What is between blocks is skipped, as OpenSSL skips it.
 */
function certificatesProblem(pem: string): string | undefined {
  let certificates = 0
  let blocks = 0
  for (let at = pem.indexOf('-----BEGIN '); at >= 0; at = pem.indexOf('-----BEGIN ', at)) {
    const beginEnd = lineEnd(pem, at)
    const label = /^-----BEGIN (.*?)-----$/.exec(pem.slice(at, beginEnd).trimEnd())?.[1]
    if (!startsLine(pem, at) || label === undefined) {
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
    const data = dataOf(pem.slice(beginEnd + 1, endStart), isCertificateBlock)
    const der = data === undefined ? undefined : strictBase64(data)
    if (der === undefined) {
      return `${name} in it is not valid base64`
    }
    if (isCertificateBlock && !isCertificate(der)) {
      return `${name} in it is not a certificate`
    }
    at = endEnd
  }
  return certificates === 0 ? 'no certificate in it' : undefined
}

/** At the start of a line, or of the file, a byte-order mark before it allowed. */
function startsLine(text: string, at: number): boolean {
  const before = text[at - 1] === '\uFEFF' ? at - 1 : at
  return before === 0 || text[before - 1] === '\n'
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from)
  return end < 0 ? text.length : end
}

/** The base64 lines of a block's body: undefined where OpenSSL would fail to read them. */
function dataOf(body: string, isCertificateBlock: boolean): string | undefined {
  const lines = body.split('\n').map((line) => line.replace(/[ \t\r]+$/, ''))
  if (lines.at(-1) === '') {
    lines.pop()
  }
  if (lines[0] === '') {
    lines.shift()
  }
  if (!isCertificateBlock && lines[0]?.includes(':')) {
    const blank = lines.indexOf('')
    if (blank < 0 || lines.slice(0, blank).some((line) => !line.includes(':'))) {
      return undefined
    }
    lines.splice(0, blank + 1)
  }
  return lines.every((line) => /^[ \t]*[A-Za-z0-9+/=][A-Za-z0-9+/= \t]*$/.test(line))
    ? lines.join('')
    : undefined
}

function strictBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[ \t]+/g, '')
  return compact.length > 0 && compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)
    ? Buffer.from(compact, 'base64')
    : undefined
}

/**
 * An X.509 certificate's outline: a SEQUENCE of the signed part (a SEQUENCE), the signature
 * algorithm (a SEQUENCE) and the signature (a BIT STRING), and nothing after it but one SEQUENCE
 * of trust settings, which OpenSSL reads in any certificate block.
 */
function isCertificate(der: Buffer): boolean {
  const outer = element(der, 0)
  if (outer?.tag !== 0x30) {
    return false
  }
  const after = outer.end === der.length ? undefined : element(der, outer.end)
  const whole =
    after === undefined ? outer.end === der.length : after.tag === 0x30 && after.end === der.length
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
