import { noRegionReason, takesRegion } from '../../core/authority/authority.js'
import {
  type ClientCredential,
  isEncryptedKey,
  keyMatchesCertificate,
} from '../../core/credentials/client-auth.js'
import { UsageError } from '../../core/kernel/errors.js'
import { controlCharacter } from '../../core/kernel/control-characters.js'
import { fileReason } from '../../core/kernel/file-problem.js'
import { readFileSafely } from '../../core/kernel/safe-file.js'
import type { HttpClient } from '../../core/http/types.js'
import type { CredentialFlags } from './app-identity-options.js'
import { federatedSpec, runtimeAssertion } from './federated-token.js'
import { type Io, readStdin, warn } from './io.js'
import { refuseGivenOptions } from './refuse-options.js'
import { type CommonSettings, settingsAuthority } from './settings.js'

/**
 * What an app token from client credentials cannot act on: --exclude-scope, as client credentials
 * add no reserved scope (MSAL decorates user flows only), and --region on an authority without
 * regional endpoints. `excludeScopeGoesWith` names where the command's --exclude-scope acts.
 */
export function refuseClientCredentialMisfits(
  settings: CommonSettings,
  { excludeScopeGoesWith }: { excludeScopeGoesWith: string },
): void {
  if (settings.excludeScopes.length > 0) {
    throw new UsageError(
      'conflicting_options',
      `--exclude-scope goes with ${excludeScopeGoesWith}: client credentials add no scope to exclude`,
    )
  }
  // A region from the environment or a profile is already left out where it cannot act.
  if (settings.region === undefined) {
    return
  }
  const authority = settingsAuthority(settings)
  if (!takesRegion(authority)) {
    throw new UsageError('conflicting_options', `--region: ${noRegionReason(authority)}`)
  }
}

type Source =
  | { kind: 'secret'; value: () => Promise<string>; from: string }
  | { kind: 'certificate'; path: string; keyPath?: string }
  | { kind: 'assertion'; value: () => Promise<string> }

/**
 * Exactly one credential from the options; without any, the environment in the Azure SDK's order
 * (secret, certificate, federated token file).
 */
export async function resolveCredential(
  flags: CredentialFlags,
  io: Io,
  runtime: { httpClient?: HttpClient } = {},
): Promise<ClientCredential> {
  const credential = await resolveOptionalCredential(flags, io, runtime)
  if (credential === undefined) {
    throw new UsageError(
      'missing_credential',
      'no client credential: pass --client-secret-stdin, --certificate, --client-assertion-file or --federated-token (or set AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE), or use --managed-identity',
    )
  }
  return credential
}

/** The credential when one is given; a public client has none. */
export async function resolveOptionalCredential(
  flags: CredentialFlags,
  io: Io,
  runtime: { httpClient?: HttpClient } = {},
): Promise<ClientCredential | undefined> {
  const source = fromFlags(flags, io, runtime.httpClient) ?? fromEnv(io)
  if (source?.kind !== 'certificate') {
    refuseCertificateOptions(flags, source)
  }
  if (source === undefined) {
    return undefined
  }
  switch (source.kind) {
    case 'secret': {
      const secret = await source.value()
      if (!secret) {
        throw new UsageError('missing_credential', 'the client secret is empty')
      }
      // The library refuses these too, by its option's name; said here by where the secret came from.
      if (!secret.trim() || controlCharacter.test(secret)) {
        throw new UsageError(
          'invalid_credential',
          `the client secret from ${source.from} is blank or holds a control character (it is not shown)`,
        )
      }
      return secret
    }
    case 'assertion':
      return { clientAssertion: source.value }
    case 'certificate':
      return certificateCredential(source.path, source.keyPath, flags, io)
  }
}

/** An option accepted must act (cli.md): these act on a certificate only. */
function refuseCertificateOptions(flags: CredentialFlags, source: Source | undefined): void {
  const given = source === undefined ? 'none is given' : `the credential is a client ${source.kind}`
  refuseGivenOptions(
    [
      ['--thumbprint', flags.thumbprint !== undefined],
      ['--send-x5c', flags.sendX5c === true],
      ['--certificate-password-stdin', flags.certificatePasswordStdin === true],
    ],
    (names) => `${names} ${names.includes(',') ? 'go' : 'goes'} with a certificate, and ${given}`,
  )
}

function fromFlags(flags: CredentialFlags, io: Io, httpClient?: HttpClient): Source | undefined {
  const given: [string, Source][] = []
  if (flags.clientSecret !== undefined) {
    given.push([
      '--client-secret',
      {
        kind: 'secret',
        value: () => Promise.resolve(flags.clientSecret ?? ''),
        from: '--client-secret',
      },
    ])
  }
  if (flags.clientSecretStdin) {
    given.push([
      '--client-secret-stdin',
      { kind: 'secret', value: () => readStdin(io), from: '--client-secret-stdin' },
    ])
  }
  if (flags.clientSecretFile !== undefined) {
    const path = flags.clientSecretFile
    given.push([
      '--client-secret-file',
      {
        kind: 'secret',
        value: async () => (await readText(path, 'client secret file')).trim(),
        from: '--client-secret-file',
      },
    ])
  }
  const certificate = certificateFromFlags(flags, io)
  if (certificate !== undefined) {
    given.push(certificate)
  }
  if (flags.clientAssertion !== undefined) {
    given.push([
      '--client-assertion',
      { kind: 'assertion', value: () => Promise.resolve(flags.clientAssertion ?? '') },
    ])
  }
  if (flags.clientAssertionFile !== undefined) {
    given.push([
      '--client-assertion-file',
      { kind: 'assertion', value: assertionFileReader(flags.clientAssertionFile) },
    ])
  }
  const federated = federatedSpec(flags)
  if (federated !== undefined) {
    given.push([
      '--federated-token',
      {
        kind: 'assertion',
        value:
          federated.kind === 'file'
            ? assertionFileReader(federated.path)
            : runtimeAssertion(federated.provider, flags, io, httpClient),
      },
    ])
  }
  if (given.length > 1) {
    throw new UsageError(
      'conflicting_credentials',
      `give exactly one client credential, not ${given.map(([name]) => name).join(' and ')}`,
    )
  }
  if (flags.clientSecret !== undefined) {
    warn(
      io,
      '--client-secret is visible to other users of this machine; use --client-secret-stdin or AZURE_CLIENT_SECRET',
    )
  }
  return given[0]?.[1]
}

/** `--certificate`, or `--private-key` for the certificate AZURE_CLIENT_CERTIFICATE_PATH names. */
function certificateFromFlags(flags: CredentialFlags, io: Io): [string, Source] | undefined {
  const keyPath = flags.privateKey ? { keyPath: flags.privateKey } : {}
  if (flags.certificate !== undefined) {
    return ['--certificate', { kind: 'certificate', path: flags.certificate, ...keyPath }]
  }
  if (flags.privateKey === undefined) {
    return undefined
  }
  const path = io.env['AZURE_CLIENT_CERTIFICATE_PATH']
  if (!path) {
    throw new UsageError(
      'missing_credential',
      '--private-key needs --certificate (or AZURE_CLIENT_CERTIFICATE_PATH) with the certificate',
    )
  }
  return ['--private-key', { kind: 'certificate', path, ...keyPath }]
}

function fromEnv(io: Io): Source | undefined {
  const env = io.env
  const from = env['MSAL_TS_CLIENT_SECRET'] ? 'MSAL_TS_CLIENT_SECRET' : 'AZURE_CLIENT_SECRET'
  const secret = env[from]
  if (secret) {
    return { kind: 'secret', value: () => Promise.resolve(secret), from }
  }
  const certificate = env['AZURE_CLIENT_CERTIFICATE_PATH']
  if (certificate) {
    return { kind: 'certificate', path: certificate }
  }
  const tokenFile = env['AZURE_FEDERATED_TOKEN_FILE']
  if (tokenFile) {
    return { kind: 'assertion', value: assertionFileReader(tokenFile) }
  }
  return undefined
}

/** A federated token file is rotated by its owner (Kubernetes, CI), so it is read at each request. */
function assertionFileReader(path: string): () => Promise<string> {
  return async () => {
    const assertion = (await readText(path, 'client assertion file')).trim()
    if (!assertion) {
      throw new UsageError('invalid_assertion', `the client assertion file ${path} is empty`)
    }
    return assertion
  }
}

async function certificateCredential(
  path: string,
  keyPath: string | undefined,
  flags: CredentialFlags,
  io: Io,
): Promise<ClientCredential> {
  const pem = await readText(path, 'certificate file')
  const keyPem = keyPath ? await readText(keyPath, 'private key file') : pem
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    const hint = pem.includes('-----BEGIN')
      ? ''
      : ' (a PFX/PKCS#12 file? convert it: openssl pkcs12 -in cert.pfx -out cert.pem -nodes)'
    throw new UsageError('invalid_certificate', `no PEM certificate in ${path}${hint}`)
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) {
    throw new UsageError(
      'invalid_certificate',
      `no PEM private key in ${keyPath ?? path}; add it to the file or pass --private-key`,
    )
  }
  const keyFile = keyPath ?? path
  if (flags.certificatePasswordStdin && !isEncryptedKey(keyPem)) {
    throw new UsageError(
      'conflicting_options',
      `--certificate-password-stdin: the private key in ${keyFile} is not encrypted`,
    )
  }
  const passphrase = flags.certificatePasswordStdin
    ? await readStdin(io)
    : io.env['AZURE_CLIENT_CERTIFICATE_PASSWORD']
  const sendX5c =
    flags.sendX5c === true ||
    io.env['AZURE_CLIENT_SEND_CERTIFICATE_CHAIN']?.toLowerCase() === 'true'
  const credential = {
    privateKey: keyPem,
    publicCertificate: pem,
    ...(flags.thumbprint ? { thumbprint: flags.thumbprint } : {}),
    ...(passphrase ? { passphrase } : {}),
    sendX5c,
  }
  if (!keyMatchesCertificate(credential)) {
    const files = keyFile === path ? `in ${path}` : `in ${keyFile} and ${path}`
    throw new UsageError(
      'invalid_certificate',
      `the private key and the certificate ${files} are not one pair: the key's public key is not the certificate's`,
    )
  }
  return credential
}

/** Keys, certificates, assertions and tokens are small; a bigger "file" is a mistake or a trap. */
const maxUserFileBytes = 1024 * 1024

/**
 * A file the user named. A FIFO, device or directory is refused at once instead of blocking;
 * `ownFile` as safe-file has it, for a file whose contents decide where a secret goes.
 */
export function readText(
  path: string,
  what: string,
  { ownFile = false }: { ownFile?: boolean } = {},
): Promise<string> {
  let text: string | undefined
  try {
    text = readFileSafely(path, { maxBytes: maxUserFileBytes, ownFile })
  } catch (error) {
    return Promise.reject(
      new UsageError('unreadable_file', `cannot read the ${what} ${path}: ${fileReason(error)}`),
    )
  }
  return text === undefined
    ? Promise.reject(
        new UsageError('unreadable_file', `cannot read the ${what} ${path}: no such file`),
      )
    : Promise.resolve(text)
}
