import assert from 'node:assert/strict'
import { chmod, cp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { type RunOptions, run, runTracingModules, tempDir, withoutCaFile } from './harness.js'

const scope = 'https://graph.microsoft.com/User.Read'
const repo = resolve(import.meta.dirname, '../..')
/** A file written this recently is not relied on by a memo (record.ts): the tests wait it out. */
const settle = () => sleep(3100)

describe('msal-ts token answered again from a memo of its cache hit', () => {
  let sts: Sts
  let home: string
  let base: string[]
  let memoFile: string
  let cacheFile: string

  async function login(): Promise<void> {
    const result = await run(
      home,
      ['login', ...base, '--username', sts.defaults.username, '--password-stdin', '--scope', scope],
      { input: sts.defaults.password },
    )
    assert.equal(result.exitCode, 0, result.stderr)
  }

  /** Runs `token` with its module trace: whether the memo answered, and what was printed. */
  async function token(
    args: string[],
    env: Record<string, string | undefined> = {},
    options: RunOptions = {},
  ): Promise<{ exitCode: number; stdout: string; stderr: string; fromMemo: boolean }> {
    const result = await runTracingModules(home, ['token', ...base, ...args], { ...options, env })
    const fromMemo =
      result.modules.includes('../dist/token-memo.cjs') &&
      !result.modules.includes('../dist/token-hit.cjs')
    return { ...result, fromMemo }
  }

  /** Asks once the usual way, which leaves a memo when the files have settled. */
  async function remembered(args: string[]): Promise<string> {
    const first = await run(home, ['token', ...base, ...args])
    assert.equal(first.exitCode, 0, first.stderr)
    return first.stdout
  }

  /** Asks the usual way, then checks that the memo answers the same question. */
  async function rememberedAndReplayed(args: string[]): Promise<string> {
    const printed = await remembered(args)
    const again = await token(args)
    assert.ok(again.fromMemo, 'not answered from the memo')
    assert.equal(again.stdout, printed)
    return printed
  }

  before(async () => {
    sts = await startSts()
    home = await tempDir()
    base = sts.cliArgs(sts.defaults.publicClientId)
    memoFile = join(home, '.cache', 'msal-ts', 'token-memo.json')
    cacheFile = join(home, 'token-cache.json')
    base = [...base, '--cache-file', cacheFile]
    await login()
  })
  after(() => sts.close())

  test('a cache file written moments ago leaves no memo', async () => {
    await login()
    const result = await run(home, ['token', ...base, '--scope', scope])
    assert.equal(result.exitCode, 0, result.stderr)
    await assert.rejects(stat(memoFile), { code: 'ENOENT' })
  })

  test('prints what the cache hit printed, in every format, from the memo, with no request', async () => {
    await settle()
    for (const format of ['raw', 'json', 'header', 'env', 'kubectl']) {
      const args = ['--scope', scope, '-o', format]
      const printed = await remembered(args)
      sts.clearLog()
      const again = await token(args)
      assert.equal(again.exitCode, 0, again.stderr)
      assert.ok(again.fromMemo, `${format}: not answered from the memo`)
      assert.equal(again.stderr, '')
      if (format === 'json') {
        const [a, b] = [printed, again.stdout].map(
          (text) => JSON.parse(text) as Record<string, number>,
        )
        assert.ok(Math.abs((a?.['expires_in'] ?? 0) - (b?.['expires_in'] ?? 0)) <= 2)
        assert.deepEqual({ ...a, expires_in: 0 }, { ...b, expires_in: 0 })
      } else {
        assert.equal(again.stdout, printed, format)
      }
      assert.deepEqual(sts.log, [])
    }
  })

  test('the memo is 0600 and holds no token', async () => {
    await remembered(['--scope', scope])
    const text = await readFile(memoFile, 'utf8')
    assert.equal((await stat(memoFile)).mode & 0o777, 0o600)
    const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<
      string,
      Record<string, { secret: string }>
    >
    for (const section of ['AccessToken', 'RefreshToken', 'IdToken']) {
      for (const entry of Object.values(cache[section] ?? {})) {
        assert.ok(!text.includes(entry.secret), `the memo holds a secret of ${section}`)
      }
    }
  })

  test('a variable the answer read, set otherwise, is asked again the usual way', async () => {
    await rememberedAndReplayed(['--scope', scope])
    const other = await token(['--scope', scope], { MSAL_TS_ACCOUNT: 'mallory@contoso.com' })
    assert.equal(other.exitCode, 3, other.stderr)
    assert.equal(other.stdout, '')
    assert.match(other.stderr, /mallory@contoso\.com is not signed in/)
    assert.ok(!other.fromMemo)
    // A variable the answer never reads does not matter.
    const unrelated = await token(['--scope', scope], { SOMETHING_ELSE: '1' })
    assert.ok(unrelated.fromMemo)
  })

  test('a config file made since is read, and what it says holds', async () => {
    await rememberedAndReplayed(['--scope', scope])
    const set = await run(home, ['config', 'set', 'output', 'header'])
    assert.equal(set.exitCode, 0, set.stderr)
    try {
      const result = await token(['--scope', scope])
      assert.ok(!result.fromMemo)
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(result.stdout, /^Authorization: Bearer /)
    } finally {
      await rm(join(home, '.config'), { recursive: true })
    }
  })

  test('a refreshed token is printed, not the one the memo named', async () => {
    const before = await rememberedAndReplayed(['--scope', scope])
    const forced = await run(home, ['token', ...base, '--scope', scope, '--force-refresh'])
    assert.equal(forced.exitCode, 0, forced.stderr)
    assert.notEqual(forced.stdout, before)
    const after = await token(['--scope', scope])
    assert.equal(after.exitCode, 0, after.stderr)
    assert.ok(!after.fromMemo)
    assert.equal(after.stdout, forced.stdout)
  })

  test('a memo file other users can write, or a link, is not read', async () => {
    await settle()
    const printed = await rememberedAndReplayed(['--scope', scope])
    await chmod(memoFile, 0o666)
    const open = await token(['--scope', scope])
    assert.ok(!open.fromMemo)
    assert.equal(open.stdout, printed)
    await chmod(memoFile, 0o600)
    const elsewhere = join(home, 'memo-elsewhere.json')
    await writeFile(elsewhere, await readFile(memoFile), { mode: 0o600 })
    await rm(memoFile)
    await symlink(elsewhere, memoFile)
    const linked = await token(['--scope', scope])
    assert.ok(!linked.fromMemo)
    assert.equal(linked.stdout, printed)
  })

  test('a memo naming a token the cache does not hold, or past its time, answers nothing', async () => {
    await rm(memoFile, { force: true })
    const printed = await rememberedAndReplayed(['--scope', scope])
    const doc = JSON.parse(await readFile(memoFile, 'utf8')) as {
      memos: { tokenKey: string; until: number }[]
    }
    for (const edit of [
      (memo: { tokenKey: string; until: number }) => (memo.tokenKey = 'no-such-token'),
      (memo: { tokenKey: string; until: number }) => (memo.until = Math.floor(Date.now() / 1000)),
    ]) {
      const copy = structuredClone(doc)
      for (const memo of copy.memos) {
        edit(memo)
      }
      await writeFile(memoFile, JSON.stringify(copy), { mode: 0o600 })
      const result = await token(['--scope', scope])
      assert.ok(!result.fromMemo)
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stdout, printed)
    }
  })

  test('a proxy URL holding a password is never written to the memo', async () => {
    await rm(memoFile, { force: true })
    // Written without its scheme, a proxy is still an http:// one.
    for (const proxy of ['http://someone:hunter2@127.0.0.1:9', 'someone:hunter2@127.0.0.1:9']) {
      const result = await run(home, ['token', ...base, '--scope', scope], {
        env: { HTTPS_PROXY: proxy, NO_PROXY: '127.0.0.1' },
      })
      assert.equal(result.exitCode, 0, result.stderr)
      await assert.rejects(stat(memoFile), { code: 'ENOENT' })
    }
  })

  test('a password in a proxy URL given on the command line is never written to the memo', async () => {
    await rm(memoFile, { force: true })
    const proxy = 'http://someone:hunter2@127.0.0.1:9'
    const result = await run(home, ['token', ...base, '--scope', scope, '--proxy', proxy], {
      env: { NO_PROXY: '127.0.0.1' },
    })
    assert.equal(result.exitCode, 0, result.stderr)
    await assert.rejects(stat(memoFile), { code: 'ENOENT' })
  })

  test('a cache file named from the working directory is remembered, and only there', async () => {
    const relative = [
      ...base.slice(0, base.indexOf('--cache-file')),
      '--cache-file',
      'token-cache.json',
    ]
    const first = await run(home, ['token', ...relative, '--scope', scope], { cwd: home })
    assert.equal(first.exitCode, 0, first.stderr)
    const here = await runTracingModules(home, ['token', ...relative, '--scope', scope], {
      cwd: home,
    })
    assert.ok(here.modules.includes('../dist/token-memo.cjs'))
    assert.ok(!here.modules.includes('../dist/token-hit.cjs'), 'not answered from the memo')
    assert.equal(here.stdout, first.stdout)
    const elsewhere = await run(home, ['token', ...relative, '--scope', scope], { cwd: tmpdir() })
    assert.notEqual(elsewhere.exitCode, 0)
    assert.equal(elsewhere.stdout, '')
  })

  test('another install of msal-ts answers anew, not from this one memo', async () => {
    const printed = await rememberedAndReplayed(['--scope', scope])
    const copy = await tempDir()
    for (const part of ['bin', 'dist', 'package.json']) {
      await cp(join(repo, part), join(copy, part), { recursive: true })
    }
    const other = await token(['--scope', scope], {}, { bin: join(copy, 'bin', 'msal-ts') })
    assert.equal(other.exitCode, 0, other.stderr)
    assert.ok(!other.fromMemo)
    assert.equal(other.stdout, printed)
  })

  test('logout forgets every memo, and the new files of memo writes a kill cut short', async () => {
    await rememberedAndReplayed(['--scope', scope])
    const abandoned = `${memoFile}.12345.1796690000000.tmp`
    await writeFile(abandoned, '{}', { mode: 0o600 })
    const out = await run(home, ['logout', ...withoutCaFile(base), '--all', '--yes'])
    assert.equal(out.exitCode, 0, out.stderr)
    await assert.rejects(stat(memoFile), { code: 'ENOENT' })
    await assert.rejects(stat(abandoned), { code: 'ENOENT' })
    const result = await token(['--scope', scope])
    assert.equal(result.exitCode, 3, result.stderr)
    assert.equal(result.stdout, '')
  })
})
