/**
 * The key pair Proof-of-Possession tokens are bound to: generated once, kept in a JsonStore (the
 * CLI's is a 0600 file beside the token cache), replaced only when asked. jose is loaded on first
 * use, so nothing here costs a bearer-token caller anything.
 */
import type { CryptoKey, JWK } from 'jose'
import type { JsonStore } from '../kernel/json-store.js'

export interface PopKey {
  /** RFC 7638 thumbprint (SHA-256, base64url) of the public key: Entra's `kid` for it. */
  kid: string
  /** The public half: n, e and kty only, as it goes into the SHR's `cnf`. */
  publicJwk: JWK
  privateKey: CryptoKey
}

const alg = 'RS256'

/** The stored key, or a new one written under the store's lock when there is none (or it is unusable). */
export async function loadPopKey(store: JsonStore): Promise<PopKey> {
  const existing = await keyFromDocument(await store.read())
  if (existing) {
    return existing
  }
  return store.withLock(
    async () => (await keyFromDocument(await store.read())) ?? (await writeNewKey(store)),
  )
}

/** A new key pair replaces the stored one; tokens bound to the old key are no longer used. */
export function rotatePopKey(store: JsonStore): Promise<PopKey> {
  return store.withLock(() => writeNewKey(store))
}

async function writeNewKey(store: JsonStore): Promise<PopKey> {
  const { generateKeyPair, exportJWK } = await import('jose')
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 })
  const privateJwk = await exportJWK(privateKey)
  const key = await keyFromJwk(privateJwk)
  await store.write({ kid: key.kid, alg, private_jwk: privateJwk })
  return key
}

async function keyFromDocument(
  document: Record<string, unknown> | undefined,
): Promise<PopKey | undefined> {
  const jwk = document?.['private_jwk']
  if (typeof jwk !== 'object' || jwk === null || (jwk as JWK).kty !== 'RSA') {
    return undefined
  }
  try {
    return await keyFromJwk(jwk)
  } catch {
    // A damaged key file is replaced: the tokens bound to it are useless without it anyway.
    return undefined
  }
}

async function keyFromJwk(privateJwk: JWK): Promise<PopKey> {
  const { calculateJwkThumbprint, importJWK } = await import('jose')
  const publicJwk: JWK = { kty: 'RSA', n: privateJwk.n, e: privateJwk.e }
  const privateKey = (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey
  return { kid: await calculateJwkThumbprint(publicJwk, 'sha256'), publicJwk, privateKey }
}
