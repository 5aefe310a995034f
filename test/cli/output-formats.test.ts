import assert from 'node:assert/strict'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, tempDir } from './harness.js'

const graph = 'https://graph.microsoft.com/.default'
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

describe('-o env and -o kubectl', () => {
  let sts: Sts
  let home: string
  let args: string[]
  const env = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })

  before(async () => {
    sts = await startSts()
    home = await tempDir()
    args = ['client-token', ...sts.cliArgs(sts.defaults.confidentialClientId), '--scope', graph]
  })
  after(() => sts.close())

  async function json(): Promise<{ access_token: string; expires_on: number; token_type: string }> {
    const result = await run(home, [...args, '-o', 'json'], { env: env() })
    assert.equal(result.exitCode, 0, result.stderr)
    return JSON.parse(result.stdout) as {
      access_token: string
      expires_on: number
      token_type: string
    }
  }

  test('-o env prints export lines a shell can eval: token, type, expiry and scope', async () => {
    const expected = await json()
    const result = await run(home, [...args, '-o', 'env'], { env: env() })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr, '')
    assert.deepEqual(
      result.stdout.split('\n').map((line) => line.replace(/=.*/, '')),
      [
        'export MSAL_TS_ACCESS_TOKEN',
        'export MSAL_TS_TOKEN_TYPE',
        'export MSAL_TS_EXPIRES_ON',
        'export MSAL_TS_SCOPE',
        '',
      ],
    )
    for (const shell of ['sh', 'bash']) {
      const evaluated = await execa(
        shell,
        [
          '-c',
          'eval "$(cat)"; printf "%s|%s|%s|%s" "$MSAL_TS_ACCESS_TOKEN" "$MSAL_TS_TOKEN_TYPE" "$MSAL_TS_EXPIRES_ON" "$MSAL_TS_SCOPE"',
        ],
        { input: result.stdout },
      )
      assert.equal(
        evaluated.stdout,
        `${expected.access_token}|${expected.token_type}|${expected.expires_on}|${graph}`,
      )
    }
  })

  test('-o env quotes values so nothing in them runs', async () => {
    // A scope with a quote and a command substitution in it comes back as the same text.
    const odd = "api://x/it's$(touch${IFS}pwned)`touch${IFS}pwned`"
    const result = await run(home, [...args.slice(0, -2), '--resource', odd, '-o', 'env'], {
      env: env(),
    })
    assert.equal(result.exitCode, 0, result.stderr)
    const evaluated = await execa('sh', ['-c', 'eval "$(cat)"; printf %s "$MSAL_TS_SCOPE"'], {
      input: result.stdout,
      cwd: home,
    })
    assert.equal(evaluated.stdout, `${odd}/.default`)
    await assert.rejects(stat(join(home, 'pwned')))
  })

  test('-o env writes a control character of a cached scope as an escape, never raw', async () => {
    const own = await tempDir()
    const cacheFile = join(own, 'cache.json')
    const first = await run(own, [...args, '--cache-file', cacheFile], { env: env() })
    assert.equal(first.exitCode, 0, first.stderr)
    // As another tool, or a hand, could have left it.
    const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as {
      AccessToken: Record<string, { target: string }>
    }
    for (const entry of Object.values(cache.AccessToken)) {
      entry.target = `${entry.target} \u001b]0;owned\u0007`
    }
    await writeFile(cacheFile, JSON.stringify(cache))
    const result = await run(own, [...args, '--cache-file', cacheFile, '-o', 'env'], { env: env() })
    assert.equal(result.exitCode, 0, result.stderr)
    const controls = [...result.stdout].filter((char) => {
      const code = char.charCodeAt(0)
      return (code < 0x20 && char !== '\n') || code === 0x7f
    })
    assert.deepEqual(controls, [])
    assert.match(result.stdout, /^export MSAL_TS_SCOPE='.*\\u001b\]0;owned\\u0007'$/m)
  })

  test('-o kubectl prints a client.authentication.k8s.io/v1 ExecCredential', async () => {
    const expected = await json()
    const result = await run(home, [...args, '-o', 'kubectl'], { env: env() })
    assert.equal(result.exitCode, 0, result.stderr)
    const credential = JSON.parse(result.stdout) as {
      apiVersion: string
      kind: string
      status: Record<string, unknown>
    }
    // The v1 ExecCredential: apiVersion and kind exactly, status with a token and an RFC 3339 expiry.
    assert.deepEqual(Object.keys(credential).sort(), ['apiVersion', 'kind', 'status'])
    assert.equal(credential.apiVersion, 'client.authentication.k8s.io/v1')
    assert.equal(credential.kind, 'ExecCredential')
    assert.deepEqual(Object.keys(credential.status).sort(), ['expirationTimestamp', 'token'])
    assert.equal(credential.status['token'], expected.access_token)
    const expiry = String(credential.status['expirationTimestamp'])
    assert.match(expiry, rfc3339)
    assert.equal(Date.parse(expiry) / 1000, expected.expires_on)
  })

  test('a cached token and the token command take the new formats; others are listed on error', async () => {
    const bad = await run(home, [...args, '-o', 'yaml'], { env: env() })
    assert.equal(bad.exitCode, 2)
    assert.match(bad.stderr, /Allowed choices are raw, json, header, env, kubectl/)
    const help = await run(home, ['token', '--help'])
    assert.match(help.stdout, /"env", "kubectl"/)
  })
})
