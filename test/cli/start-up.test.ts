/**
 * What a run loads before it can answer: help needs no HTTP stack and no child processes, and a
 * token request no HTTP/2. Each module left out is milliseconds of every run (docs/benchmarks.md).
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { runTracingModules, tempDir } from './harness.js'

async function loadedModules(
  home: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; modules: string[] }> {
  const result = await runTracingModules(home, args, { env })
  assert.equal(result.exitCode, 0, result.stderr)
  return result
}

function assertNotLoaded(modules: readonly string[], names: readonly string[]): void {
  for (const name of names) {
    assert.ok(!modules.includes(name), `${name} was loaded: ${modules.join(' ')}`)
  }
}

describe('start-up', () => {
  let sts: Sts
  let home: string

  before(async () => {
    sts = await startSts()
    home = await tempDir()
  })
  after(() => sts.close())

  test('help loads no HTTP stack, no credential code, no child_process and no V8 settings', async () => {
    const { stdout, modules } = await loadedModules(home, ['client-token', '--help'])
    assert.match(stdout, /^Usage: msal-ts client-token/)
    assert.ok(modules.includes('./vendor/commander.cjs'), modules.join(' '))
    assertNotLoaded(modules, [
      'undici',
      'node:child_process',
      'node:v8',
      'node:tls',
      'node:http2',
      // What the credential options stand for (keys, certificates, lookups) runs only to run.
      'node:crypto',
      'node:dns',
    ])
  })

  test('a client-credential token loads undici and one HTTP parser, without node:http2 or child_process', async () => {
    const { stdout, modules } = await loadedModules(
      home,
      [
        'client-token',
        ...sts.cliArgs(sts.defaults.confidentialClientId),
        '--resource',
        'https://graph.microsoft.com',
      ],
      { AZURE_CLIENT_SECRET: sts.defaults.clientSecret },
    )
    assert.match(stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    assert.ok(modules.includes('undici'), modules.join(' '))
    assert.ok(modules.includes('./llhttp_simd-wasm.cjs'), modules.join(' '))
    assertNotLoaded(modules, ['node:http2', 'node:child_process', './llhttp-wasm.cjs'])
  })
})

test("the stand-in for node:http2 in undici's bundle holds Node's own constants", async () => {
  const require = createRequire(import.meta.url)
  const standIn = require('../../scripts/vendor/http2-on-connect.cjs') as {
    constants: Record<string, unknown>
    connect: (...args: unknown[]) => unknown
  }
  const http2 = await import('node:http2')
  for (const [name, value] of Object.entries(standIn.constants)) {
    assert.equal(value, (http2.constants as Record<string, unknown>)[name], name)
  }
  // connect() is Node's, reached on first use: the same refusal of a URL it cannot use.
  assert.throws(() => standIn.connect('ftp://127.0.0.1:1'), {
    code: 'ERR_HTTP2_UNSUPPORTED_PROTOCOL',
  })
})
