import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { execa } from 'execa'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { bin, cleanEnv, cliEnv, run, tempDir, withoutCaFile } from './harness.js'

const clientId = '8a3b2c1d-4e5f-4a6b-9c7d-0e1f2a3b4c5d'

/** A cache with many signed-in accounts, so that `accounts -o json` prints far more than a pipe holds. */
async function cacheWithAccounts(dir: string, count: number): Promise<string> {
  const accounts: Record<string, Record<string, string>> = {}
  for (let i = 0; i < count; i++) {
    const home = `${i}-uid.72f988bf-86f1-41af-91ab-2d7cd011db47`
    accounts[`${home}-login.microsoftonline.com-72f988bf-86f1-41af-91ab-2d7cd011db47`] = {
      home_account_id: home,
      environment: 'login.microsoftonline.com',
      realm: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      local_account_id: `${i}-uid`,
      username: `user${i}@contoso.example`,
      authority_type: 'MSSTS',
      name: `User ${i} ${'x'.repeat(200)}`,
    }
  }
  const file = join(dir, 'cache.json')
  await writeFile(file, JSON.stringify({ Account: accounts }), { mode: 0o600 })
  return file
}

test('a reader that closes the pipe before msal-ts writes is not an error: exit 0, nothing on stderr', async () => {
  const dir = await tempDir()
  const cacheFile = await cacheWithAccounts(dir, 3)
  // `true` has exited long before msal-ts writes, so the write meets a pipe with no reader.
  const result = await execa(
    'bash',
    [
      '-c',
      `set -o pipefail; { sleep 0.3; "$0" accounts -c ${clientId} --cache-file "$1" -o json; } | true`,
      bin,
      cacheFile,
    ],
    { env: cleanEnv(dir), extendEnv: false, reject: false },
  )
  assert.equal(result.exitCode, 0, result.stderr)
  assert.equal(result.stderr, '')
})

test('a full non-blocking pipe with a slow reader still gets all of a large output, in order', async () => {
  const dir = await tempDir()
  const cacheFile = await cacheWithAccounts(dir, 600)
  // Python hands msal-ts the write end of a pipe set non-blocking, and starts reading only later:
  // the first writes fill the pipe, and the rest must wait for the reader rather than be lost.
  const script = `
import os, subprocess, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
child = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.5)
with os.fdopen(r, "rb") as reader:
    data = reader.read()
sys.stdout.buffer.write(data)
sys.exit(child.wait())
`
  const result = await execa(
    '/usr/bin/python3',
    ['-c', script, bin, 'accounts', '-c', clientId, '--cache-file', cacheFile, '-o', 'json'],
    { env: cleanEnv(dir), extendEnv: false, reject: false, maxBuffer: 10_000_000 },
  )
  assert.equal(result.exitCode, 0, result.stderr)
  assert.ok(result.stdout.length > 2 * 65_536, `only ${result.stdout.length} bytes`)
  const accounts = JSON.parse(result.stdout) as { username: string }[]
  assert.equal(accounts.length, 600)
  assert.deepEqual(
    accounts.map((a) => a.username).sort(),
    Array.from({ length: 600 }, (_, i) => `user${i}@contoso.example`).sort(),
  )
})

/** msal-ts with stdout (1) or stderr (2) on /dev/full, where every write fails with ENOSPC. */
async function toFullDevice(home: string, args: string[], fd: 1 | 2 = 1) {
  return execa('bash', ['-c', `"$0" "$@" ${fd}>/dev/full`, bin, ...args], {
    env: cliEnv(home),
    extendEnv: false,
    reject: false,
  })
}

/** A home where the STS's user is signed in for User.Read. */
async function signedInHome(sts: Sts): Promise<string> {
  const home = await tempDir()
  const login = await run(
    home,
    [
      'login',
      ...sts.cliArgs(sts.defaults.publicClientId),
      '--username',
      sts.defaults.username,
      '--password-stdin',
      '-s',
      'User.Read',
    ],
    { input: sts.defaults.password },
  )
  assert.equal(login.exitCode, 0, login.stderr)
  return home
}

test('stdout that takes nothing (a full disk, /dev/full) is a clean exit 1 naming the cause', async () => {
  const sts = await startSts()
  try {
    const home = await signedInHome(sts)
    const runs = [
      // A cache hit, answered by the fast path first.
      ['token', ...sts.cliArgs(sts.defaults.publicClientId), '-s', 'User.Read'],
      ['--help'],
      ['token', '--help'],
      ['--version'],
    ]
    for (const args of runs) {
      const result = await toFullDevice(home, args)
      assert.equal(result.exitCode, 1, args.join(' '))
      assert.equal(
        result.stderr,
        'msal-ts: stdout_failed: cannot write to stdout (ENOSPC)',
        args.join(' '),
      )
    }
  } finally {
    await sts.close()
  }
})

test('stderr that takes nothing (/dev/full) leaves the exit code and stdout as they were', async () => {
  const sts = await startSts()
  try {
    const home = await signedInHome(sts)
    const app = sts.cliArgs(sts.defaults.publicClientId)
    const runs: [string[], number][] = [
      [['token', '--no-such-option'], 2],
      [['token', ...app, '-s', 'User.Read', '--cache-file', join(home, 'none.json')], 3],
      // --insecure warns on every run, and the token is still printed.
      [['token', ...withoutCaFile(app), '-s', 'User.Read', '--insecure'], 0],
    ]
    for (const [args, exitCode] of runs) {
      const result = await toFullDevice(home, args, 2)
      assert.equal(result.exitCode, exitCode, args.join(' '))
      assert.equal(result.stdout.split('.').length, exitCode === 0 ? 3 : 1, args.join(' '))
    }
  } finally {
    await sts.close()
  }
})
