import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomUUID,
  X509Certificate,
  type KeyObject,
} from 'node:crypto'
import { UsageError } from '../kernel/errors.js'
import { quoted } from '../kernel/quoted.js'

/** A certificate credential: the private key signs a client assertion. */
export interface CertificateCredential {
  /** PEM private key (PKCS#8 or PKCS#1, optionally encrypted). */
  privateKey: string
  /** SHA-1 thumbprint in hex; computed from publicCertificate when absent. */
  thumbprint?: string
  /**
   * PEM certificate(s): the leaf first, then its chain. Sent in the assertion's `x5c` header, as
   * MSAL sends its public_certificate, for subject name / issuer authentication.
   */
  publicCertificate?: string
  /** Decrypts an encrypted private key. */
  passphrase?: string
  /**
   * Whether `x5c` is sent: by default when publicCertificate is given; false keeps the certificate
   * for the thumbprint only; true without a certificate is refused.
   */
  sendX5c?: boolean
}

/** A client assertion: a ready JWT, or a function that returns a fresh one on every request. */
export interface AssertionCredential {
  clientAssertion: string | (() => string | Promise<string>)
}

export type ClientCredential = string | CertificateCredential | AssertionCredential

const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

interface AssertionContext {
  clientId: string
  /** The central token endpoint: the assertion's audience, even when the request goes to a region. */
  audience: string
  now: number
  clientClaims?: Record<string, unknown>
}

/** How a request authenticates its client: form fields, and for `client_secret_basic` a header. */
export interface ClientAuthentication {
  form: Record<string, string>
  headers?: Record<string, string>
}

/**
 * The client authentication for a request. A secret goes in the body as Entra wants it, unless
 * the provider's metadata offers only HTTP Basic (`client_secret_basic`).
 */
export async function clientAuthentication(
  credential: ClientCredential,
  context: AssertionContext & { authMethods?: readonly string[] },
): Promise<ClientAuthentication> {
  if (typeof credential === 'string') {
    const methods = context.authMethods
    if (
      methods &&
      !methods.includes('client_secret_post') &&
      methods.includes('client_secret_basic')
    ) {
      return {
        form: {},
        headers: { authorization: basicAuthorization(context.clientId, credential) },
      }
    }
    return { form: { client_secret: credential } }
  }
  return { form: await assertionFields(credential, context) }
}

/** RFC 6749 §2.3.1: both parts form-urlencoded before they are joined and base64-encoded. */
function basicAuthorization(clientId: string, secret: string): string {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2)
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`
}

async function assertionFields(
  credential: CertificateCredential | AssertionCredential,
  context: AssertionContext,
): Promise<Record<string, string>> {
  if ('clientAssertion' in credential) {
    const assertion: unknown =
      typeof credential.clientAssertion === 'function'
        ? await credential.clientAssertion()
        : credential.clientAssertion
    if (typeof assertion !== 'string') {
      throw new UsageError(
        'invalid_assertion',
        `clientAssertion must return a string, not ${quoted(assertion)}`,
      )
    }
    if (!assertion.trim()) {
      throw new UsageError('invalid_assertion', 'the client assertion is empty')
    }
    return { client_assertion_type: assertionType, client_assertion: assertion.trim() }
  }
  return {
    client_assertion_type: assertionType,
    client_assertion: await signAssertion(credential, context),
  }
}

/** An RS256 JWT with `x5t` (and `x5c` when the certificate is given), the claims MSAL sends, and the caller's claims last. */
async function signAssertion(
  credential: CertificateCredential,
  context: AssertionContext,
): Promise<string> {
  const key = privateKeyOf(credential)
  const certificates = credential.publicCertificate
    ? pemCertificates(credential.publicCertificate)
    : []
  const thumbprint = credential.thumbprint ?? sha1Thumbprint(certificates[0])
  const header: Record<string, unknown> = {
    alg: 'RS256',
    typ: 'JWT',
    x5t: hexToBase64Url(thumbprint),
  }
  if (credential.sendX5c ?? certificates.length > 0) {
    if (certificates.length === 0) {
      throw new UsageError('invalid_certificate', 'sending x5c needs the public certificate')
    }
    header['x5c'] = certificates.map((der) => der.toString('base64'))
  }
  const { SignJWT } = await import('jose')
  const payload = {
    aud: context.audience,
    iss: context.clientId,
    sub: context.clientId,
    jti: randomUUID(),
    iat: context.now,
    exp: context.now + 600,
    ...context.clientClaims,
  }
  return new SignJWT(payload).setProtectedHeader(header as { alg: 'RS256' }).sign(key)
}

/** Whether a PEM private key is password-protected (PKCS#8 or the traditional Proc-Type form). */
export function isEncryptedKey(pem: string): boolean {
  return /ENCRYPTED/.test(pem)
}

/**
 * Whether the private key is the one of the leaf certificate: a key of another pair signs
 * assertions the provider can only reject. True when there is no certificate to compare with.
 */
export function keyMatchesCertificate(credential: CertificateCredential): boolean {
  const [leaf] = pemCertificates(credential.publicCertificate ?? '')
  if (leaf === undefined) {
    return true
  }
  const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' })
  return spki(createPublicKey(privateKeyOf(credential))).equals(
    spki(new X509Certificate(leaf).publicKey),
  )
}

function privateKeyOf(credential: CertificateCredential): KeyObject {
  if (!credential.privateKey.includes('PRIVATE KEY-----')) {
    throw new UsageError(
      'invalid_certificate',
      'no PEM private key found (expected a "-----BEGIN ... PRIVATE KEY-----" block)',
    )
  }
  const encrypted = isEncryptedKey(credential.privateKey)
  if (encrypted && !credential.passphrase) {
    throw new UsageError(
      'invalid_certificate',
      'the private key is encrypted; give its password (the certificate passphrase)',
      { hint: 'certificate_password' },
    )
  }
  try {
    const key = createPrivateKey({
      key: credential.privateKey,
      format: 'pem',
      ...(credential.passphrase ? { passphrase: credential.passphrase } : {}),
    })
    if (key.asymmetricKeyType !== 'rsa') {
      throw new Error(`a ${key.asymmetricKeyType ?? 'non-RSA'} key`)
    }
    return key
  } catch (error) {
    const why = encrypted ? 'wrong password, or a damaged key' : (error as Error).message
    throw new UsageError('invalid_certificate', `cannot use the private key: ${why}`)
  }
}

/** The DER bytes of each certificate in a PEM bundle, leaf first. */
function pemCertificates(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  return blocks.map((block) => {
    try {
      return Buffer.from(new X509Certificate(block).raw)
    } catch {
      throw new UsageError('invalid_certificate', 'a certificate in the PEM is damaged')
    }
  })
}

function sha1Thumbprint(der: Buffer | undefined): string {
  if (der === undefined) {
    throw new UsageError(
      'invalid_certificate',
      'no certificate found to compute the thumbprint from; give the certificate or its thumbprint',
      { hint: 'certificate_thumbprint' },
    )
  }
  return createHash('sha1').update(der).digest('hex')
}

/** Entra expects the raw SHA-1 digest in base64url; MSAL Python keeps the "=" padding, and so do we. */
function hexToBase64Url(hex: string): string {
  const clean = hex.replace(/[\s:]/g, '')
  if (!/^[0-9a-f]{40}$/i.test(clean)) {
    throw new UsageError(
      'invalid_thumbprint',
      'the certificate thumbprint must be 40 hex digits (SHA-1)',
    )
  }
  return Buffer.from(clean, 'hex').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
}
