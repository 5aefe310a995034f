/**
 * What a run loads before it can answer: help needs no HTTP stack and no child processes, and a
 * token request goes through Node's https client (undici only for a proxy), without HTTP/2 or
 * node:http, nor what its dependencies load for checks that hold
 * (node:assert), threads the CLI never starts (worker_threads) or fs patches for calls proper-
 * lockfile never makes (graceful-fs).
 * Each module left out is milliseconds of every run (docs/benchmarks.md). The stand-ins the
 * vendored bundles get instead are checked against Node.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, runTracingModules, tempDir } from './harness.js'

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

  test('help loads no HTTP stack, no credential code, no child_process, no V8 settings and no prompts', async () => {
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
      // The prompts and the browser opener load only when shown or opened.
      './esm-packages.cjs',
    ])
  })

  const clientToken = (): string[] => [
    'client-token',
    ...sts.cliArgs(sts.defaults.confidentialClientId),
    '--resource',
    'https://graph.microsoft.com',
  ]

  test("a client-credential token goes through Node's https client: no undici or HTTP parser of its own, no node:http, node:http2, child_process, node:assert or worker_threads", async () => {
    const { stdout, modules } = await loadedModules(await tempDir(), clientToken(), {
      AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
    })
    assert.match(stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    assert.ok(modules.includes('node:https'), modules.join(' '))
    assertNotLoaded(modules, [
      'undici',
      './llhttp_simd-wasm.cjs',
      './llhttp-wasm.cjs',
      'node:http',
      'node:http2',
      'node:child_process',
      'node:assert',
      'node:worker_threads',
    ])
  })

  test('with a proxy variable set, requests go through undici, which still honours NO_PROXY', async () => {
    const { stdout, modules } = await loadedModules(await tempDir(), clientToken(), {
      AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
      // Nothing listens there: the token can only come from going direct, as NO_PROXY asks.
      HTTPS_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '127.0.0.1',
    })
    assert.match(stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    assert.ok(modules.includes('undici'), modules.join(' '))
    assert.ok(modules.includes('./llhttp_simd-wasm.cjs'), modules.join(' '))
    assertNotLoaded(modules, ['node:https', 'node:http2', './llhttp-wasm.cjs'])
  })

  test("Node's --max-http-header-size still bounds the headers of the provider's answers", async () => {
    // A home of its own: the token the test above got would answer from the cache.
    const result = await run(await tempDir(), clientToken(), {
      env: {
        AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
        NODE_OPTIONS: '--max-http-header-size=64',
      },
    })
    assert.equal(result.exitCode, 1, result.stderr)
    assert.equal(result.stdout, '')
    assert.match(
      result.stderr,
      /^msal-ts: connection_failed: cannot read the answer of 127.0.0.1:\d+: its headers are larger than Node.s limit \(HPE_HEADER_OVERFLOW\)\n$/,
    )
  })
})

const require = createRequire(import.meta.url)

test("the stand-in for node:http2 in undici's bundle holds Node's own constants", async () => {
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

test("the stand-in for node:http in undici's bundle has Node's header bound, or is Node's module when an option may set it", async () => {
  const standIn = '../../scripts/vendor/http-max-header-size.cjs'
  const http = await import('node:http')
  assert.equal((require(standIn) as { maxHeaderSize: number }).maxHeaderSize, http.maxHeaderSize)
  const answer = await execa(
    process.execPath,
    ['-p', `require(${JSON.stringify(require.resolve(standIn))}) === require('node:http')`],
    { env: { NODE_OPTIONS: '--max_http_header_size=100' } },
  )
  assert.equal(answer.stdout, 'true')
})

test("proper-lockfile's bundle leaves Node's fs as it is: graceful-fs is not in it", async () => {
  const bundle = require.resolve('../../dist/vendor/proper-lockfile.cjs')
  const answer = await execa(process.execPath, [
    '-p',
    `const fs = require('node:fs'); const close = fs.close; require(${JSON.stringify(bundle)}); fs.close === close`,
  ])
  assert.equal(answer.stdout, 'true')
})

test("the stand-in for assert passes what Node's passes and fails with Node's AssertionError", async () => {
  const standIn = require('../../scripts/vendor/assert-on-failure.cjs') as {
    (value: unknown, message?: string): void
    ok: (value: unknown, message?: string) => void
    equal: (actual: unknown, expected: unknown, message?: string) => void
    strictEqual: (actual: unknown, expected: unknown) => void
  }
  const nodeAssert = await import('node:assert')
  standIn(1)
  standIn.ok('x', 'message')
  standIn.equal(1, '1')
  standIn.equal(NaN, NaN)
  standIn.strictEqual('a', 'a')
  const failing = [
    () => standIn(0, 'disturbed'),
    () => standIn.ok(''),
    () => standIn.equal(1, 2, 'a callback must be provided'),
    () => standIn.strictEqual(1, '1'),
  ]
  for (const check of failing) {
    assert.throws(check, nodeAssert.AssertionError)
  }
  assert.throws(() => standIn(false, 'disturbed'), { message: 'disturbed' })
})
