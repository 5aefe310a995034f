/**
 * The package as npm ships it: `npm pack` of the built tree, installed into an empty directory the
 * way a user installs a downloaded tarball, then run from there. The runtime dependencies come from
 * npm's cache when `npm ci` left them there (`--prefer-offline`), else from the registry.
 */
import assert from 'node:assert/strict'
import { readFile, realpath } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, tempDir } from './harness.js'

const repo = resolve(import.meta.dirname, '../..')
const graph = 'https://graph.microsoft.com/.default'

/** npm's own settings (HOME's .npmrc, the cache) but none of the variables an `npm test` run sets. */
function npmEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        !/^npm_(?!config_(cache|registry)$)/i.test(entry[0]) &&
        entry[0] !== 'INIT_CWD',
    ),
  )
}

const npm = (args: string[], cwd: string) =>
  execa('npm', args, { cwd, env: npmEnv(), extendEnv: false, timeout: 300_000 })

describe('the npm package', () => {
  let sts: Sts
  let files: string[]
  let app: string
  let installed: string

  before(async () => {
    sts = await startSts()
    const out = await tempDir()
    // --ignore-scripts: `prepare` would rebuild dist/ under the other tests; the suite runs after a build.
    const packed = await npm(
      ['pack', '--ignore-scripts', '--json', '--silent', '--pack-destination', out],
      repo,
    )
    const [summary] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]
    assert.ok(summary)
    files = summary.files.map((file) => file.path).sort()
    app = await tempDir()
    await npm(
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        join(out, summary.filename),
      ],
      app,
    )
    installed = join(app, 'node_modules', '.bin', 'msal-ts')
  })
  after(() => sts.close())

  test('holds the binary, the bundles, the library and its types, the completions, README and LICENSE, and nothing else', () => {
    const tops = new Set(files.map((path) => path.split('/')[0]))
    assert.deepEqual(
      [...tops].sort(),
      ['LICENSE', 'README.md', 'bin', 'completions', 'dist', 'package.json'],
      'no src/, test/, bench/, scripts/ or docs/',
    )
    for (const needed of [
      'bin/msal-ts',
      'dist/msal-ts.cjs',
      'dist/token-hit.cjs',
      'dist/token-memo.cjs',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'completions/msal-ts.bash',
      'completions/_msal-ts',
      'completions/msal-ts.fish',
    ]) {
      assert.ok(files.includes(needed), `${needed} is in the package`)
    }
  })

  test('installed into an empty directory: msal-ts runs from there and gets a client token', async () => {
    assert.ok((await realpath(installed)).startsWith(await realpath(app)), 'not the repo copy')
    const home = await tempDir()
    const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      version: string
    }
    const shown = await run(home, ['--version'], { bin: installed })
    assert.equal(shown.exitCode, 0, shown.stderr)
    assert.equal(shown.stdout.trim(), version)

    sts.clearLog()
    const token = await run(home, ['client-token', '--scope', graph], {
      bin: installed,
      env: {
        AZURE_CLIENT_ID: sts.defaults.confidentialClientId,
        AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
        MSAL_TS_AUTHORITY: sts.authority(),
        NODE_EXTRA_CA_CERTS: sts.caFile,
      },
    })
    assert.equal(token.exitCode, 0, token.stderr)
    assert.match(token.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    assert.equal(sts.tokenRequests().length, 1)

    const completion = await run(home, ['completion', 'bash'], { bin: installed })
    assert.equal(completion.exitCode, 0, completion.stderr)
    assert.equal(
      completion.stdout,
      await readFile(join(app, 'node_modules', 'msal-ts', 'completions', 'msal-ts.bash'), 'utf8'),
    )
  })

  test('installed, it imports as a library', async () => {
    const imported = await execa(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const lib = await import('msal-ts'); console.log(typeof lib.ConfidentialClientApplication, typeof lib.PublicClientApplication)",
      ],
      { cwd: app, reject: false },
    )
    assert.equal(imported.exitCode, 0, String(imported.stderr))
    assert.equal(imported.stdout, 'function function')
  })
})
