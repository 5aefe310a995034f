import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, tempDir, withoutCaFile } from './harness.js'

type Doc = Record<string, Record<string, { client_id?: string; home_account_id?: string | null }>>

describe('msal-ts logout --app-tokens', () => {
  let sts: Sts
  const other = { clientId: 'e2e2e2e2-0000-4000-8000-000000000003', secret: 'another secret' }

  before(async () => {
    sts = await startSts()
    sts.addClient(other)
  })
  after(() => sts.close())

  test("removes the client's app-only tokens and leaves user tokens, accounts and other clients' tokens", async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'shared-cache.json')
    const common = ['-a', sts.authority(), '--ca-file', sts.caFile, '--cache-file', cacheFile]
    const graph = ['--scope', 'https://graph.microsoft.com/.default']
    for (const [clientId, secret] of [
      [sts.defaults.confidentialClientId, sts.defaults.clientSecret],
      [other.clientId, other.secret],
    ] as const) {
      const app = await run(home, ['client-token', '-c', clientId, ...common, ...graph], {
        env: { AZURE_CLIENT_SECRET: secret },
      })
      assert.equal(app.exitCode, 0, app.stderr)
    }
    const login = await run(
      home,
      [
        'login',
        '-c',
        sts.defaults.publicClientId,
        ...common,
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        'User.Read',
      ],
      { input: `${sts.defaults.password}\n` },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    const before = JSON.parse(await readFile(cacheFile, 'utf8')) as Doc
    assert.equal(Object.keys(before['AccessToken'] ?? {}).length, 3)

    sts.clearLog()
    const result = await run(home, [
      'logout',
      '--app-tokens',
      '-c',
      sts.defaults.confidentialClientId,
      ...withoutCaFile(common),
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /app-only tokens/)
    assert.deepEqual(sts.log, [], 'no request: no credential, no discovery')

    const afterDoc = JSON.parse(await readFile(cacheFile, 'utf8')) as Doc
    const kept = Object.fromEntries(
      Object.entries(before['AccessToken'] ?? {}).filter(
        ([, at]) => at.client_id !== sts.defaults.confidentialClientId,
      ),
    )
    assert.equal(Object.keys(kept).length, 2)
    assert.deepEqual(afterDoc['AccessToken'], kept)
    for (const section of ['RefreshToken', 'IdToken', 'Account', 'AppMetadata']) {
      assert.deepEqual(afterDoc[section], before[section], `${section} untouched`)
    }
  })

  test('--app-tokens with --account or --all is a usage error', async () => {
    const home = await tempDir()
    const result = await run(home, ['logout', '--app-tokens', '--all', '-c', 'app'])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^msal-ts: conflicting_options: /)
  })
})
