import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { run, tempDir } from './harness.js'

/* eslint-disable no-control-regex -- escape sequences are what these tests look for */

const escape = '\u001b['
// A warning (a corrupt cache file is moved aside), the accounts table header, then an error on the next run.
const corruptCache = async (home: string) => {
  const file = join(home, 'corrupt-cache.json')
  await writeFile(file, 'not json')
  return ['accounts', '-c', 'app', '--cache-file', file, '-o', 'table']
}
const failing = ['token', '-c', 'app', '--scope', 'api://x/.default']

test('piped output holds no escape sequence, and chalk is not even loaded', async () => {
  const home = await tempDir()
  const log = join(home, 'modules.log')
  const listed = await run(home, await corruptCache(home), {
    env: {
      NODE_OPTIONS: `--require ${join(import.meta.dirname, 'module-trace.cjs')}`,
      MSAL_TS_TEST_MODULE_LOG: log,
    },
  })
  assert.equal(listed.exitCode, 0, listed.stderr)
  assert.match(listed.stderr, /^msal-ts: warning: cache file /)
  assert.match(listed.stdout, /^USERNAME {2}HOME ACCOUNT ID/)
  assert.ok(!(listed.stdout + listed.stderr).includes(escape))
  assert.ok(!(await readFile(log, 'utf8')).split('\n').includes('chalk'))
  const failed = await run(home, failing)
  assert.equal(failed.exitCode, 3)
  assert.match(failed.stderr, /^msal-ts: no_account: /)
})

test('FORCE_COLOR colours the warning and error prefixes and the table header', async () => {
  const home = await tempDir()
  const listed = await run(home, await corruptCache(home), { env: { FORCE_COLOR: '1' } })
  assert.equal(listed.exitCode, 0, listed.stderr)
  assert.match(listed.stderr, /^\u001b\[33mmsal-ts: warning:\u001b\[39m cache file /)
  assert.match(
    listed.stdout,
    /^\u001b\[1mUSERNAME {2}HOME ACCOUNT ID {2}ENVIRONMENT {2}TENANT\u001b\[22m\n$/,
  )
  const failed = await run(home, failing, { env: { FORCE_COLOR: '1' } })
  assert.match(failed.stderr, /^\u001b\[31mmsal-ts: no_account:\u001b\[39m /)
})

test('NO_COLOR and --no-color win over FORCE_COLOR', async () => {
  const home = await tempDir()
  for (const [args, env] of [
    [['table'], { FORCE_COLOR: '1', NO_COLOR: '1' }],
    [['table', '--no-color'], { FORCE_COLOR: '1' }],
    [failing, { FORCE_COLOR: '1', NO_COLOR: '1' }],
    [[...failing, '--no-color'], { FORCE_COLOR: '1' }],
  ] as const) {
    const line = args[0] === 'table' ? [...(await corruptCache(home)), ...args.slice(1)] : args
    const result = await run(home, line, { env })
    assert.ok(!(result.stdout + result.stderr).includes(escape), line.join(' '))
    assert.match(result.stderr, /^msal-ts: /)
  }
})
