import type { FileHandle } from 'node:fs/promises'
import { dirname, extname, join, resolve } from 'node:path'
import { RuntimeFailure, UsageError } from '../kernel/errors.js'
import {
  type ManagedIdentityId,
  type ManagedIdentityToken,
  parse,
  send,
  type SourceContext,
  withQuery,
} from './exchange.js'

/**
 * Azure Arc (a server outside Azure, run by the Connected Machine agent, himds). Its endpoint first
 * answers 401 with `WWW-Authenticate: Basic realm=<key file>`; only a local user allowed to read that
 * file (root, or the himds group) can answer the challenge, by sending the file's content back.
 */

/** Where himds answers when only its executable shows that the agent is installed. */
const defaultArcEndpoint = 'http://127.0.0.1:40342/metadata/identity/oauth2/token'
const arcApiVersion = '2020-06-01'
/** MSAL refuses a key file larger than this before reading it. */
const maxKeyBytes = 4096

type Env = Record<string, string | undefined>

/** The himds executable: MSAL Python looks under /var/opt, msal-node and the agent's docs under /opt. */
export function himdsPaths(env: Env, platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'linux') {
    return ['/opt/azcmagent/bin/himds', '/var/opt/azcmagent/bin/himds']
  }
  if (platform === 'win32') {
    const programFiles = env['ProgramFiles'] || 'C:\\Program Files'
    return [join(programFiles, 'AzureConnectedMachineAgent', 'himds.exe')]
  }
  return []
}

/**
 * The only directory a challenge may name a key file in. MSAL_TS_TEST_ARC_KEY_DIR replaces it: a
 * test hook (the real directory belongs to root), harmless as whoever sets the environment already
 * chooses IDENTITY_ENDPOINT.
 */
function keyDirectory(env: Env, platform: NodeJS.Platform): string {
  const override = env['MSAL_TS_TEST_ARC_KEY_DIR']
  if (override) {
    return override
  }
  if (platform === 'linux') {
    return '/var/opt/azcmagent/tokens'
  }
  if (platform === 'win32') {
    return join(env['ProgramData'] || 'C:\\ProgramData', 'AzureConnectedMachineAgent', 'Tokens')
  }
  throw new RuntimeFailure(
    'unsupported_platform',
    `Azure Arc managed identity works on Linux and Windows, not on ${platform}`,
  )
}

export async function arcToken(
  context: SourceContext,
  id: ManagedIdentityId | undefined,
  resource: string,
): Promise<ManagedIdentityToken> {
  if (id !== undefined) {
    throw new UsageError(
      'unsupported_identity',
      'Azure Arc has only the system-assigned identity; a user-assigned identity cannot be chosen',
    )
  }
  const env = context.env
  const fromEnv = Boolean(env['IDENTITY_ENDPOINT'] && env['IMDS_ENDPOINT'])
  const url = withQuery(
    fromEnv ? (env['IDENTITY_ENDPOINT'] ?? '') : defaultArcEndpoint,
    'IDENTITY_ENDPOINT',
    { 'api-version': arcApiVersion, resource },
  )
  const first = await send(context, 'AzureArc', {
    method: 'GET',
    url,
    headers: { metadata: 'true' },
  })
  if (first.status !== 401) {
    return parse(first, 'AzureArc', context.now())
  }
  const keyFile = challengedKeyFile(first.headers['www-authenticate'], env)
  const key = await readKey(keyFile)
  const answer = await send(context, 'AzureArc', {
    method: 'GET',
    url,
    headers: { metadata: 'true', authorization: `Basic ${key}` },
    carriesCredential: true,
  })
  return parse(answer, 'AzureArc', context.now())
}

/** The key file a challenge names, if it is a `.key` file right in the agent's key directory. */
function challengedKeyFile(
  challenge: string | undefined,
  env: Env,
  platform: NodeJS.Platform = process.platform,
): string {
  const realm = /^\s*Basic\s+realm="?([^"]+?)"?\s*$/i.exec(challenge ?? '')?.[1]
  if (realm === undefined) {
    throw new RuntimeFailure(
      'invalid_challenge',
      'the Azure Arc identity endpoint answered 401 without a `Basic realm=<key file>` challenge',
    )
  }
  const file = resolve(realm)
  const directory = resolve(keyDirectory(env, platform))
  const same = (a: string, b: string) =>
    platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b
  if (extname(file).toLowerCase() !== '.key' || !same(dirname(file), directory)) {
    throw new RuntimeFailure(
      'invalid_challenge',
      `the Azure Arc challenge names ${file}, which is not a .key file in ${directory}`,
    )
  }
  return file
}

/** The key, checked for size before it is read. */
async function readKey(file: string): Promise<string> {
  let handle: FileHandle
  try {
    // Loaded here: node:fs/promises costs milliseconds, and most runs are not on Azure Arc.
    const { open } = await import('node:fs/promises')
    handle = await open(file, 'r')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    const hint = code === 'EACCES' ? ' (the user must be root or in the himds group)' : ''
    throw new RuntimeFailure(
      'arc_key_unreadable',
      `cannot read the Azure Arc key file ${file}: ${code}${hint}`,
      { cause: error },
    )
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile() || stat.size > maxKeyBytes) {
      throw new RuntimeFailure(
        'invalid_arc_key',
        `the Azure Arc key file ${file} is not a file of at most ${maxKeyBytes} bytes`,
      )
    }
    // A trailing newline would not survive in a header; the key itself is one token.
    const key = (await handle.readFile('utf8')).trim()
    if (key === '' || /[\r\n]/.test(key)) {
      throw new RuntimeFailure('invalid_arc_key', `the Azure Arc key file ${file} holds no key`)
    }
    return key
  } finally {
    await handle.close()
  }
}
