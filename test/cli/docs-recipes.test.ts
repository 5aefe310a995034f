/**
 * The recipes of docs/git-credential.md and docs/decode.md, run as written: login.microsoftonline.com
 * becomes the loopback STS, and dev.azure.com a loopback git server that git reaches through its
 * own configuration (GIT_CONFIG_COUNT), never leaving loopback.
 */
import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { startGitServer, type GitServer } from '../fixtures/git-server.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, tempDir } from './harness.js'
import { readTokenCache } from './login-process.js'
import { fillIn, recipe, runShell } from './readme.js'

const devOps = '499b84ac-1321-427f-aa17-267ca6975798'

describe('docs recipes', () => {
  let sts: Sts
  let git: GitServer

  before(async () => {
    sts = await startSts()
    // Any Azure DevOps token of this STS; the tests compare what came with the cached token.
    git = await startGitServer({
      dir: await tempDir(),
      accepts: (_username, password) => {
        try {
          const claims = decodeJwt(password)
          return claims.aud === devOps && String(claims.iss).startsWith(sts.url)
        } catch {
          return false
        }
      },
    })
  })
  after(async () => {
    await git.close()
    await sts.close()
  })

  const userEnv = () => ({
    MSAL_TS_CLIENT_ID: sts.defaults.publicClientId,
    MSAL_TS_AUTHORITY: sts.authority(),
    NODE_EXTRA_CA_CERTS: sts.caFile,
  })
  const userSwaps = () => ({
    '<app id>': sts.defaults.publicClientId,
    'https://login.microsoftonline.com/<tenant>': sts.authority(),
  })
  const repoSwap = () => ({
    'https://dev.azure.com/<org>/<project>/_git/<repo>': git.repoUrl,
  })

  /** git's -c options for the git server, as environment: the recipe's git commands stay as written. */
  const gitEnv = () => {
    const pairs = [
      [`http.curloptResolve`, `dev.azure.com:${git.port}:127.0.0.1`],
      ['http.sslCAInfo', git.caFile],
    ]
    return {
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: String(pairs.length),
      ...Object.fromEntries(
        pairs.flatMap(([key, value], i) => [
          [`GIT_CONFIG_KEY_${i}`, key ?? ''],
          [`GIT_CONFIG_VALUE_${i}`, value ?? ''],
        ]),
      ),
    }
  }

  const signIn = async (home: string) => {
    const result = await run(
      home,
      ['login', '--username', sts.defaults.username, '--password-stdin'],
      { input: sts.defaults.password, env: userEnv() },
    )
    assert.equal(result.exitCode, 0, result.stderr)
  }

  /** The cached access tokens for Azure DevOps. */
  const devOpsTokens = async (home: string) =>
    Object.values((await readTokenCache(home))?.AccessToken ?? {})
      .filter((entry) => String(entry['target']).includes(devOps))
      .map((entry) => String(entry['secret']))

  test('git-credential-user: git config, then git ls-remote with the signed-in account', async () => {
    const home = await tempDir()
    await signIn(home)
    const script = fillIn(recipe('git-credential-user', { doc: 'docs/git-credential.md' }), {
      ...userSwaps(),
      ...repoSwap(),
      // git matches a credential URL by its port too.
      'credential.https://dev.azure.com.helper': `credential.https://dev.azure.com:${git.port}.helper`,
    })
    git.log.length = 0
    const result = await runShell(home, script, { ...userEnv(), ...gitEnv() })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /^[0-9a-f]{40}\trefs\/heads\/main$/m)
    const [token] = await devOpsTokens(home)
    assert.ok(token, 'an Azure DevOps token in the cache')
    const sent = git.log.filter((entry) => entry.password !== undefined)
    assert.ok(sent.length > 0 && sent.every((entry) => entry.password === token))
  })

  test('git-credential-ci: git clone with the app credential from the environment', async () => {
    const home = await tempDir()
    const script = fillIn(
      recipe('git-credential-ci', { doc: 'docs/git-credential.md' }),
      repoSwap(),
    )
    sts.clearLog()
    const result = await runShell(home, script, {
      ...gitEnv(),
      AZURE_CLIENT_ID: sts.defaults.confidentialClientId,
      AZURE_TENANT_ID: sts.tenantId,
      AZURE_AUTHORITY_HOST: sts.url,
      AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
      NODE_EXTRA_CA_CERTS: sts.caFile,
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.ok((await stat(join(home, 'repo', '.git'))).isDirectory(), 'cloned')
    const [request] = sts.tokenRequests()
    assert.equal(request?.form?.['grant_type'], 'client_credentials')
    assert.equal(request?.form?.['scope'], `${devOps}/.default`)
  })

  test('decode-claims: the audience and scopes of a token, through jq', async () => {
    const home = await tempDir()
    await signIn(home)
    const script = fillIn(recipe('decode-claims', { doc: 'docs/decode.md' }), userSwaps())
    const result = await runShell(home, script, userEnv())
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, 'https://management.azure.com\n.default\n')
  })

  test('decode-verify: a token from the STS verifies against its published keys', async () => {
    const home = await tempDir()
    await signIn(home)
    const script = fillIn(recipe('decode-verify', { doc: 'docs/decode.md' }), userSwaps())
    const result = await runShell(home, script, userEnv())
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, 'signed by its issuer, and not expired\n')
    assert.match(result.stderr, /^signature verified: key \S+ from https:\/\/127\.0\.0\.1:/m)
  })
})
