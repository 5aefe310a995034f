/**
 * Node 20's compile cache (src/compile-cache.ts): a second run takes the code the first compiled,
 * a directory or file someone else could have written is never read, and a damaged file is never
 * run. Node 22 and later keep their own cache, so there msal-ts makes no directory of its own.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmod,
  cp,
  mkdir,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, tempDir } from './harness.js'

const ownCache = Number(process.versions.node.split('.')[0]) < 22
const help = ['client-token', '--help']

async function scratch(): Promise<{ home: string; tmp: string; cache: string }> {
  const home = await tempDir()
  const tmp = join(home, 'tmp')
  await mkdir(tmp)
  return { home, tmp, cache: join(tmp, `msal-ts-compile-cache-${process.getuid?.() ?? 'user'}`) }
}

/** A second install of the built binary, in another directory. */
async function installedCopy(home: string): Promise<string> {
  const copy = join(home, 'copy')
  for (const part of ['bin', 'dist']) {
    await cp(join(import.meta.dirname, '../..', part), join(copy, part), { recursive: true })
  }
  return copy
}

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).sort()
}

describe('compile cache', () => {
  test('a first run only marks what it ran; the second keeps its code, in files only the user can read; the third takes it', async () => {
    const { home, tmp, cache } = await scratch()
    const first = await run(home, help, { env: { TMPDIR: tmp } })
    assert.equal(first.exitCode, 0, first.stderr)
    if (!ownCache) {
      assert.deepEqual(await listing(cache), [], 'Node 22+ uses its own cache')
      return
    }
    assert.equal((await stat(cache)).mode & 0o777, 0o700)
    const marks = await listing(cache)
    assert.ok(marks.length > 0 && marks.every((name) => name.endsWith('.seen')), marks.join(' '))
    for (const name of marks) {
      assert.equal((await stat(join(cache, name))).size, 0, name)
    }
    await run(home, help, { env: { TMPDIR: tmp } })
    const files = await listing(cache)
    assert.ok(!files.some((name) => name.endsWith('.seen')), files.join(' '))
    assert.ok(
      files.some((name) => name.startsWith('msal-ts.cjs.client-token-help.')),
      files.join(' '),
    )
    const before = new Map<string, number>()
    for (const name of files) {
      const info = await stat(join(cache, name))
      assert.equal(info.mode & 0o777, 0o600, name)
      before.set(name, info.mtimeMs)
    }
    const second = await run(home, help, { env: { TMPDIR: tmp } })
    assert.equal(second.stdout, first.stdout)
    assert.deepEqual(await listing(cache), files)
    for (const name of files) {
      assert.equal((await stat(join(cache, name))).mtimeMs, before.get(name), `${name} rewritten`)
    }
  })

  test('the bundles it caches hold no import(), which Node 20 cannot run from cached code', async () => {
    const dist = join(import.meta.dirname, '../../dist')
    for (const bundle of ['msal-ts.cjs', 'token-hit.cjs']) {
      assert.doesNotMatch(await readFile(join(dist, bundle), 'utf8'), /\bimport\(/, bundle)
    }
    assert.match(await readFile(join(dist, 'esm-packages.cjs'), 'utf8'), /import\("open"\)/)
  })

  test('two installs on one machine keep their caches apart', async () => {
    const { home, tmp, cache } = await scratch()
    const copy = await installedCopy(home)
    const runs = [undefined, join(copy, 'bin', 'msal-ts')]
    for (const bin of [...runs, ...runs]) {
      const result = await run(home, help, { env: { TMPDIR: tmp }, ...(bin ? { bin } : {}) })
      assert.equal(result.exitCode, 0, result.stderr)
    }
    const bundles = (await listing(cache)).filter((name) => name.startsWith('msal-ts.cjs.'))
    assert.equal(bundles.length, ownCache ? 2 : 0, bundles.join(' '))
    if (ownCache) {
      const before = await Promise.all(
        bundles.map(async (name) => (await stat(join(cache, name))).mtimeMs),
      )
      for (const bin of runs) {
        await run(home, help, { env: { TMPDIR: tmp }, ...(bin ? { bin } : {}) })
      }
      const after = await Promise.all(
        bundles.map(async (name) => (await stat(join(cache, name))).mtimeMs),
      )
      assert.deepEqual(after, before, 'neither evicted the other')
    }
  })

  test('a new build of the same size and time is never run with the code of the old one', async () => {
    // npm pack stamps every file with one date: an upgrade can keep a bundle's size and time.
    const { home, tmp } = await scratch()
    const copy = await installedCopy(home)
    const bin = join(copy, 'bin', 'msal-ts')
    const bundle = join(copy, 'dist', 'msal-ts.cjs')
    await run(home, ['--version'], { env: { TMPDIR: tmp }, bin })
    const version = await run(home, ['--version'], { env: { TMPDIR: tmp }, bin })
    assert.equal(version.exitCode, 0, version.stderr)
    const old = version.stdout.trim()
    const next = old.replace(/\d$/, (digit) => String((Number(digit) + 1) % 10))
    const { mtime } = await stat(bundle)
    const source = await readFile(bundle, 'utf8')
    assert.ok(source.includes(`"${old}"`), 'the version is in the bundle')
    const rebuilt = source.replaceAll(`"${old}"`, `"${next}"`)
    await writeFile(bundle, rebuilt)
    await utimes(bundle, mtime, mtime)
    // As the build does: the bundle's digest in compile-keys.json.
    const keysFile = join(copy, 'dist', 'compile-keys.json')
    const keys = JSON.parse(await readFile(keysFile, 'utf8')) as Record<string, string>
    keys['msal-ts.cjs'] = createHash('sha256').update(rebuilt).digest('hex').slice(0, 32)
    await writeFile(keysFile, JSON.stringify(keys))
    const after = await run(home, ['--version'], { env: { TMPDIR: tmp }, bin })
    assert.equal(after.stdout.trim(), next)
  })

  test('a cache file V8 cannot use is compiled afresh and replaced', async () => {
    const { home, tmp, cache } = await scratch()
    await run(home, help, { env: { TMPDIR: tmp } })
    const first = await run(home, help, { env: { TMPDIR: tmp } })
    const [name] = (await listing(cache)).filter((file) => file.startsWith('msal-ts.cjs.'))
    if (!ownCache) {
      assert.equal(name, undefined)
      return
    }
    assert.ok(name)
    await writeFile(join(cache, name), 'not compiled code')
    const second = await run(home, help, { env: { TMPDIR: tmp } })
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    assert.notEqual(await readFile(join(cache, name), 'utf8').catch(() => ''), 'not compiled code')
  })

  test('a FIFO or a directory where a cache file belongs neither holds the run nor leaves files', async () => {
    const { home, tmp, cache } = await scratch()
    await run(home, help, { env: { TMPDIR: tmp } })
    const first = await run(home, help, { env: { TMPDIR: tmp } })
    const names = (await listing(cache)).filter((file) => file.endsWith('.d'))
    const [fifoName, directoryName] = names
    if (!ownCache) {
      assert.equal(fifoName, undefined)
      return
    }
    assert.ok(fifoName && directoryName, names.join(' '))
    await rm(join(cache, fifoName))
    execFileSync('mkfifo', [join(cache, fifoName)])
    await rm(join(cache, directoryName))
    await mkdir(join(cache, directoryName))
    for (let round = 0; round < 2; round++) {
      // A run held on the FIFO would end only at the harness's limit, with no exit code.
      const again = await run(home, help, { env: { TMPDIR: tmp } })
      assert.equal(again.exitCode, 0, again.stderr)
      assert.equal(again.stdout, first.stdout)
    }
    const left = (await listing(cache)).filter((file) => file.endsWith('.tmp'))
    assert.deepEqual(left, [])
  })

  describe('a file damaged after it was written', () => {
    let sts: Sts
    before(async () => {
      sts = await startSts()
    })
    after(() => sts.close())

    test('is never given to V8: the run compiles as usual, answers, and writes the file anew', async () => {
      const { home, tmp, cache } = await scratch()
      const env = { TMPDIR: tmp }
      const scope = 'https://graph.microsoft.com/User.Read'
      const base = sts.cliArgs(sts.defaults.publicClientId)
      const signIn = ['login', ...base, '--username', sts.defaults.username, '--password-stdin']
      const login = await run(home, [...signIn, '--scope', scope], {
        env,
        input: sts.defaults.password,
      })
      assert.equal(login.exitCode, 0, login.stderr)
      const token = ['token', ...base, '--scope', scope]
      const first = await run(home, token, { env })
      assert.equal(first.exitCode, 0, first.stderr)
      await run(home, token, { env })
      const [name] = (await listing(cache)).filter((file) =>
        file.startsWith('token-hit.cjs.token.'),
      )
      if (!ownCache) {
        assert.equal(name, undefined)
        return
      }
      assert.ok(name)
      const file = join(cache, name)
      // Bytes changed in place, the size kept: no torn write leaves this, and a release build of
      // V8 takes such code and aborts the process on it ("Fatal error", exit 133).
      const damaged = await readFile(file)
      for (const at of [0.3, 0.45, 0.6]) {
        const start = Math.floor(damaged.length * at)
        damaged.fill(0xa5, start, start + 8)
      }
      await writeFile(file, damaged)
      const afterDamage = await run(home, token, { env })
      assert.equal(afterDamage.exitCode, 0, afterDamage.stderr)
      assert.equal(afterDamage.stderr, '')
      assert.equal(afterDamage.stdout, first.stdout)
      const rewritten = await readFile(file)
      assert.ok(!rewritten.equals(damaged), 'the damaged file was written anew')
      const { mtimeMs } = await stat(file)
      const next = await run(home, token, { env })
      assert.equal(next.exitCode, 0, next.stderr)
      assert.equal(next.stdout, first.stdout)
      assert.equal((await stat(file)).mtimeMs, mtimeMs, 'the new file was taken, not rewritten')
    })
  })

  test('a directory others can write in, or a link, is never used', async () => {
    for (const plant of ['open', 'link'] as const) {
      const { home, tmp, cache } = await scratch()
      const elsewhere = join(home, 'elsewhere')
      await mkdir(elsewhere, { mode: 0o700 })
      if (plant === 'open') {
        await mkdir(cache)
        await chmod(cache, 0o777)
      } else {
        await symlink(elsewhere, cache)
      }
      const result = await run(home, help, { env: { TMPDIR: tmp } })
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(result.stdout, /^Usage: msal-ts client-token/)
      assert.deepEqual(await listing(cache), [], plant)
      assert.deepEqual(await listing(elsewhere), [], plant)
    }
  })

  test('a run that fails, or NODE_DISABLE_COMPILE_CACHE, leaves no cache', async () => {
    const { home, tmp, cache } = await scratch()
    const mistyped = await run(home, ['client-tokn'], { env: { TMPDIR: tmp } })
    assert.equal(mistyped.exitCode, 2)
    assert.deepEqual(await listing(cache), [])
    // One that failed after loading the HTTP client (which changes V8's settings) too.
    const refused = await run(
      home,
      ['client-token', '-c', 'app', '-a', 'https://127.0.0.1:1/tenant', '--resource', 'api://x'],
      { env: { TMPDIR: tmp, AZURE_CLIENT_SECRET: 'secret' } },
    )
    assert.equal(refused.exitCode, 1, refused.stderr)
    assert.deepEqual(await listing(cache), [])
    const disabled = await run(home, help, {
      env: { TMPDIR: tmp, NODE_DISABLE_COMPILE_CACHE: '1' },
    })
    assert.equal(disabled.exitCode, 0, disabled.stderr)
    assert.deepEqual(await listing(cache), [])
  })
})
