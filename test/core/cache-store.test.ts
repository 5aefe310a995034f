import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { openJsonFileStore } from '../../src/core/storage/cache-store.js'
import { RuntimeFailure, UsageError } from '../../src/core/kernel/errors.js'
import { stowLayout } from '../fixtures/link-layouts.js'

const worker = fileURLToPath(new URL('./cache-store-worker.ts', import.meta.url))
const isWindows = process.platform === 'win32'

const temps: string[] = []
after(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'msal-ts-cache-store-'))
  temps.push(dir)
  return dir
}

function mode(stats: { mode: number }): number {
  return stats.mode & 0o777
}

function runWorker(args: string[]): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', worker, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stderr: string }> {
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

function waitForLine(child: ReturnType<typeof spawn>, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      if (out.split('\n').includes(line)) {
        resolve()
      }
    })
    child.on('close', (code) =>
      reject(new Error(`worker exited (${code}) before printing ${line}`)),
    )
  })
}

void test('write then read round-trips, with mode 0600 and a 0700 directory', async () => {
  const dir = await tempDir()
  const path = join(dir, 'nested', 'deeper', 'cache.json')
  const store = openJsonFileStore({ path })
  const document = { AccessToken: { key: { secret: 'x', n: 1 } }, Account: {}, list: [1, 'two'] }

  await store.withLock(() => store.write(document))
  assert.deepEqual(await store.read(), document)
  assert.equal(await readFile(path, 'utf8'), JSON.stringify(document, null, 4))
  assert.equal(store.path, path)
  if (!isWindows) {
    assert.equal(mode(await stat(path)), 0o600)
    assert.equal(mode(await stat(join(dir, 'nested'))), 0o700)
    assert.equal(mode(await stat(join(dir, 'nested', 'deeper'))), 0o700)
  }
  // No temp file or lock is left behind.
  assert.deepEqual(await readdir(join(dir, 'nested', 'deeper')), ['cache.json'])
})

void test('replacing a 0644 file leaves it 0600', { skip: isWindows }, async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  await writeFile(path, '{"old": true}')
  await chmod(path, 0o644)
  const store = openJsonFileStore({ path })

  await store.withLock(async () => {
    const document = (await store.read()) ?? {}
    await store.write({ ...document, added: 1 })
  })
  assert.deepEqual(await store.read(), { old: true, added: 1 })
  assert.equal(mode(await stat(path)), 0o600)
})

void test('a missing file reads undefined, and so does an empty one', async () => {
  const dir = await tempDir()
  const warnings: string[] = []
  const store = openJsonFileStore({
    path: join(dir, 'absent', 'cache.json'),
    onWarning: (m) => warnings.push(m),
  })
  assert.equal(await store.read(), undefined)

  const emptyPath = join(dir, 'empty.json')
  await writeFile(emptyPath, '\n')
  const empty = openJsonFileStore({ path: emptyPath, onWarning: (m) => warnings.push(m) })
  assert.equal(await empty.read(), undefined)
  assert.equal(await readFile(emptyPath, 'utf8'), '\n')
  assert.deepEqual(warnings, [])
})

void test('a corrupt file is moved aside once, bytes intact, and reads undefined', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  const contents = ['{"AccessToken": {"k": "secret-tok', '[]', 'null', '42']

  for (const [i, content] of contents.entries()) {
    const warnings: string[] = []
    const store = openJsonFileStore({ path, onWarning: (m) => warnings.push(m) })
    await writeFile(path, content)

    assert.equal(await store.read(), undefined, content)
    assert.equal(warnings.length, 1, content)
    const [warning = ''] = warnings
    assert.ok(!warning.includes('\n'))
    assert.ok(!warning.includes('secret-tok'), 'the warning never quotes the content')
    await assert.rejects(stat(path), { code: 'ENOENT' })

    const moved = (await readdir(dir)).filter((name) => name.startsWith('cache.json.corrupt-'))
    assert.equal(moved.length, i + 1, 'an earlier quarantined file is never overwritten')
    const target = moved.find(
      (name) => warning.includes(join(dir, name)) && warning.endsWith(name + ' and started afresh'),
    )
    assert.ok(target !== undefined, `warning names the new file: ${warning}`)
    assert.match(target, /^cache\.json\.corrupt-\d{8}T\d{6}Z(-\d+)?$/)
    assert.ok(warning.includes(path))
    assert.equal(await readFile(join(dir, target), 'utf8'), content)

    // The next read sees no file, and says nothing.
    assert.equal(await store.read(), undefined)
    assert.equal(warnings.length, 1)
  }
})

void test('a corrupt file that another process already replaced is not moved', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  const warnings: string[] = []
  const store = openJsonFileStore({ path, onWarning: (m) => warnings.push(m) })
  const other = openJsonFileStore({ path })
  await writeFile(path, 'garbage')

  // The other process holds the lock and replaces the file while this read waits for it.
  let replaced!: () => void
  const gate = new Promise<void>((resolve) => (replaced = resolve))
  let locked!: () => void
  const isLocked = new Promise<void>((resolve) => (locked = resolve))
  const holding = other.withLock(async () => {
    locked()
    await gate
    await other.write({ fresh: true })
  })
  await isLocked
  const reading = store.read()
  await new Promise((resolve) => setTimeout(resolve, 100))
  replaced()
  await holding
  assert.deepEqual(await reading, { fresh: true })
  assert.deepEqual(warnings, [])
  assert.deepEqual(await readdir(dir), ['cache.json'])
})

void test('20 processes adding a key each under the lock lose none', async () => {
  const dir = await tempDir()
  const path = join(dir, 'sub', 'cache.json')
  const ids = Array.from({ length: 20 }, (_, i) => `key-${i}`)

  const results = await Promise.all(ids.map((id) => exitOf(runWorker(['add', path, id]))))
  for (const result of results) {
    assert.equal(result.code, 0, result.stderr)
  }

  const document: unknown = JSON.parse(await readFile(path, 'utf8'))
  assert.deepEqual(Object.keys(document as object).sort(), [...ids].sort())
  assert.deepEqual(await readdir(join(dir, 'sub')), ['cache.json'])
})

void test('a lock left by a killed process is taken over once stale', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  const child = runWorker(['hold', path])
  const exited = exitOf(child)
  await waitForLine(child, 'locked')
  child.kill('SIGKILL')
  await exited
  assert.ok((await stat(`${path}.lock`)).isDirectory(), 'the killed holder left its lock behind')

  // Waiting out lockWaitMs rejects with cache_locked: getting the lock is the takeover.
  const store = openJsonFileStore({ path, lockStaleMs: 2000, lockWaitMs: 10_000 })
  await store.withLock(() => store.write({ recovered: true }))
  assert.deepEqual(await store.read(), { recovered: true })
  await assert.rejects(stat(`${path}.lock`), { code: 'ENOENT' })
})

void test('a writer killed (SIGKILL) in the middle of writing leaves a whole, valid file', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  for (const delayMs of [0, 7, 23, 61, 150]) {
    const child = runWorker(['churn', path])
    const exited = exitOf(child)
    await waitForLine(child, 'writing')
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    child.kill('SIGKILL')
    await exited
    const document = JSON.parse(await readFile(path, 'utf8')) as { n: number; padding: string }
    assert.equal(document.padding.length, 64 * 1024 + document.n * 512, 'a whole document')
    // Whatever the killed writer left (its lock, a temp file) does not block the next one.
    const store = openJsonFileStore({ path, lockStaleMs: 2000, lockWaitMs: 10_000 })
    await store.withLock(() => store.write({ n: -1, padding: '' }))
  }
  const left = (await readdir(dir)).filter((name) => name !== 'cache.json')
  assert.ok(
    left.every((name) => name.startsWith('cache.json.')),
    `only the killed writers' temp files may remain: ${left.join(', ')}`,
  )
})

void test('a JSON object of the wrong shape is corrupt when shapeProblem says so', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  const warnings: string[] = []
  const store = openJsonFileStore({
    path,
    onWarning: (m) => warnings.push(m),
    shapeProblem: (doc) => (typeof doc['AccessToken'] === 'object' ? undefined : 'had no tokens'),
  })
  await writeFile(path, '{"AccessToken": {}}')
  assert.deepEqual(await store.read(), { AccessToken: {} })
  await writeFile(path, '{"AccessToken": 5}')
  assert.equal(await store.read(), undefined)
  assert.equal(warnings.length, 1)
  assert.match(warnings[0] ?? '', /cache\.json had no tokens; moved it to .*cache\.json\.corrupt-/)
  await writeFile(path, '')
  assert.equal(await store.read(), undefined, 'an empty file is never asked about')
  assert.equal(warnings.length, 1)
})

void test('a lock directory with an old mtime is taken over at once', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  await mkdir(`${path}.lock`)
  const old = new Date(Date.now() - 60_000)
  await utimes(`${path}.lock`, old, old)

  // A wait of 1 ms leaves no time for a retry: only a takeover on the first attempt gets the lock.
  const store = openJsonFileStore({ path, lockStaleMs: 2000, lockWaitMs: 1 })
  assert.equal(await store.withLock(() => Promise.resolve('ran')), 'ran')
})

void test('waiting longer than lockWaitMs for a held lock fails with cache_locked', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  const holder = openJsonFileStore({ path })
  const waiter = openJsonFileStore({ path, lockWaitMs: 300 })

  let done!: () => void
  const gate = new Promise<void>((resolve) => (done = resolve))
  let locked!: () => void
  const isLocked = new Promise<void>((resolve) => (locked = resolve))
  const holding = holder.withLock(async () => {
    locked()
    await gate
  })
  await isLocked

  // The holder keeps the lock until done(): the waiter ending at all is its giving up.
  let ran = false
  await assert.rejects(
    waiter.withLock(async () => {
      ran = true
      await Promise.resolve()
    }),
    (error: unknown) => {
      assert.ok(error instanceof RuntimeFailure)
      assert.equal(error.code, 'cache_locked')
      assert.ok(error.message.includes(path))
      return true
    },
  )
  assert.equal(ran, false)

  done()
  await holding
  // Once released, the waiter gets it.
  assert.equal(await waiter.withLock(() => Promise.resolve(1)), 1)
})

void test('nested withLock on the same file runs directly; write outside the lock is refused', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  const store = openJsonFileStore({ path, lockWaitMs: 500 })
  const same = openJsonFileStore({ path, lockWaitMs: 500 })

  await store.withLock(() => same.withLock(() => same.write({ nested: true })))
  assert.deepEqual(await store.read(), { nested: true })
  await assert.rejects(store.write({}), { code: 'cache_not_locked' })
})

void test('a lock taken over by another process makes the write fail cleanly', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  const store = openJsonFileStore({ path, lockStaleMs: 2000 })

  await assert.rejects(
    store.withLock(async () => {
      // Someone else removes the lock; the next refresh (about a second later) notices.
      await rm(`${path}.lock`, { recursive: true })
      await new Promise((resolve) => setTimeout(resolve, 2000))
      await store.write({ late: true })
    }),
    (error: unknown) => {
      assert.ok(error instanceof RuntimeFailure)
      assert.equal(error.code, 'cache_lock_lost')
      return true
    },
  )
  await assert.rejects(stat(path), { code: 'ENOENT' })
})

void test('a directory at the cache path is a usage error', async () => {
  const dir = await tempDir()
  const store = openJsonFileStore({ path: dir })
  await assert.rejects(store.read(), (error: unknown) => {
    assert.ok(error instanceof UsageError)
    assert.equal(error.code, 'cache_file')
    assert.ok(error.message.includes(dir))
    assert.ok(!error.message.includes('\n'))
    return true
  })
})

void test('an I/O failure while writing is a one-line error naming the path', async () => {
  const dir = await tempDir()
  const blocker = join(dir, 'file')
  await writeFile(blocker, 'not a directory')
  const path = join(blocker, 'cache.json')
  const store = openJsonFileStore({ path })
  await assert.rejects(
    store.withLock(() => store.write({ a: 1 })),
    (error: unknown) => {
      assert.ok(error instanceof UsageError || error instanceof RuntimeFailure)
      assert.ok(error.message.includes(path))
      assert.ok(!error.message.includes('\n'))
      return true
    },
  )
})

void test('reading a healthy file does not load proper-lockfile', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  await writeFile(path, '{"a": 1}')
  const script = [
    `import { openJsonFileStore } from ${JSON.stringify(new URL('../../src/core/storage/cache-store.ts', import.meta.url).href)}`,
    `import { createRequire } from 'node:module'`,
    `const store = openJsonFileStore({ path: ${JSON.stringify(path)} })`,
    `const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => /proper-lockfile/.test(k)).length > 0`,
    `const doc = await store.read()`,
    `const onRead = loaded()`,
    `await store.withLock(() => store.write({ b: 2 }))`,
    `console.log(JSON.stringify({ doc, onRead, onWrite: loaded() }))`,
  ].join('\n')
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  const { code, stderr } = await exitOf(child)
  assert.equal(code, 0, stderr)
  assert.deepEqual(JSON.parse(out), { doc: { a: 1 }, onRead: false, onWrite: true })
})

void test('directories made for a cache file are usable and private whatever the umask', async () => {
  const dir = await tempDir()
  const path = join(dir, 'a', 'b', 'cache.json')
  const store = openJsonFileStore({ path })
  const umask = process.umask(0o277)
  try {
    await store.withLock(() => store.write({ a: 1 }))
  } finally {
    process.umask(umask)
  }
  assert.equal(mode(await stat(join(dir, 'a'))), 0o700)
  assert.equal(mode(await stat(join(dir, 'a', 'b'))), 0o700)
  assert.equal(mode(await stat(path)), 0o600)
  assert.deepEqual(await store.read(), { a: 1 })
})

void test('a link to the cache file and the file itself take one lock, the file’s', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  await writeFile(path, '{}')
  const alias = join(dir, 'alias.json')
  await symlink(path, alias)
  const store = openJsonFileStore({ path: alias })
  const locks = await store.withLock(async () => {
    await store.write({ a: 1 })
    return (await readdir(dir)).filter((name) => name.endsWith('.lock'))
  })
  assert.deepEqual(locks, ['cache.json.lock'])
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { a: 1 })
})

void test('a write under the lock removes the new files killed writers left, and nothing else', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  const left = ['cache.json.0123456789ab.tmp', 'cache.json.ba9876543210.tmp']
  const kept = ['cache.json.tmp', 'other.json.0123456789ab.tmp', 'cache.json.0123456789ab.tmp.x']
  for (const name of [...left, ...kept]) {
    await writeFile(join(dir, name), 'tokens')
  }
  const store = openJsonFileStore({ path })
  await store.withLock(() => store.write({ a: 1 }))
  assert.deepEqual((await readdir(dir)).sort(), ['cache.json', ...kept].sort())
})

void test('a link and its target nested in one process: the inner call holds the lock already', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  await writeFile(path, '{}')
  await symlink(path, join(dir, 'alias.json'))
  const viaLink = openJsonFileStore({ path: join(dir, 'alias.json'), lockWaitMs: 2_000 })
  const direct = openJsonFileStore({ path, lockWaitMs: 2_000 })
  await viaLink.withLock(() => direct.withLock(() => direct.write({ a: 1 })))
  assert.deepEqual(await direct.read(), { a: 1 })
})

void test('a link whose cache file is yet to be made is locked and written through, not replaced', async () => {
  const dir = await tempDir()
  const target = join(dir, 'real', 'cache.json')
  const link = join(dir, 'cache.json')
  await symlink(target, link)
  const store = openJsonFileStore({ path: link })
  const locks = await store.withLock(async () => {
    await store.write({ a: 1 })
    return (await readdir(join(dir, 'real'))).filter((name) => name.endsWith('.lock'))
  })
  assert.deepEqual(locks, ['cache.json.lock'])
  assert.deepEqual(JSON.parse(await readFile(target, 'utf8')), { a: 1 })
  assert.equal(mode(await stat(join(dir, 'real'))), 0o700)
})

void test('a corrupt cache file behind a link is moved aside beside itself; the link stays', async () => {
  const dir = await tempDir()
  await mkdir(join(dir, 'real'))
  const target = join(dir, 'real', 'cache.json')
  await writeFile(target, 'not json', { mode: 0o600 })
  const link = join(dir, 'cache.json')
  await symlink(target, link)
  const warnings: string[] = []
  const store = openJsonFileStore({ path: link, onWarning: (message) => warnings.push(message) })
  assert.equal(await store.read(), undefined)
  await store.withLock(() => store.write({ a: 1 }))
  assert.equal(warnings.length, 1)
  assert.deepEqual(await readdir(dir), ['cache.json', 'real'])
  assert.ok((await lstat(link)).isSymbolicLink())
  const inReal = (await readdir(join(dir, 'real'))).sort()
  assert.equal(inReal[0], 'cache.json')
  assert.match(inReal[1] ?? '', /^cache\.json\.corrupt-\d{8}T\d{6}Z$/)
  assert.deepEqual(JSON.parse(await readFile(target, 'utf8')), { a: 1 })
})

void test('a cache file reached by a relative link through a linked directory is read where it is written', async () => {
  const { entry, file } = await stowLayout(await tempDir())
  const store = openJsonFileStore({ path: entry })
  await store.withLock(() => store.write({ a: 1 }))
  assert.deepEqual(await store.read(), { a: 1 })
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { a: 1 })
})

void test('`..` after a linked directory goes up from where the link leads, as the system goes', async () => {
  const dir = await tempDir()
  // work/linkdir -> ../elsewhere/sub: work/linkdir/../y.json is elsewhere/y.json to the system.
  await mkdir(join(dir, 'work'))
  await mkdir(join(dir, 'elsewhere', 'sub'), { recursive: true })
  await symlink('../elsewhere/sub', join(dir, 'work', 'linkdir'))
  await symlink('linkdir/../y.json', join(dir, 'work', 'cache.json'))
  for (const path of [
    `${join(dir, 'work', 'linkdir')}/../x.json`,
    join(dir, 'work', 'cache.json'),
  ]) {
    const store = openJsonFileStore({ path })
    await store.withLock(() => store.write({ at: path }))
    assert.deepEqual(await store.read(), { at: path })
  }
  assert.deepEqual((await readdir(join(dir, 'elsewhere'))).sort(), ['sub', 'x.json', 'y.json'])
  assert.deepEqual((await readdir(join(dir, 'work'))).sort(), ['cache.json', 'linkdir'])
})

void test('a linked directory in a directory others can write is refused, as a linked file is', async () => {
  const dir = await tempDir()
  await mkdir(join(dir, 'pub'), { mode: 0o777 })
  await chmod(join(dir, 'pub'), 0o1777)
  await mkdir(join(dir, 'theirs'))
  await writeFile(join(dir, 'theirs', 't.json'), '{}')
  await symlink('../theirs', join(dir, 'pub', 'ci'))
  const store = openJsonFileStore({ path: join(dir, 'pub', 'ci', 't.json') })
  await assert.rejects(store.read(), (error: Error) => {
    assert.ok(error instanceof RuntimeFailure)
    assert.match(error.message, /symbolic link in .*pub, a directory other users can write/)
    return true
  })
})

void test('a path through a regular file (`t.json/`) is refused as the system refuses it', async () => {
  const dir = await tempDir()
  await writeFile(join(dir, 't.json'), '{}')
  const store = openJsonFileStore({ path: `${join(dir, 't.json')}/` })
  await assert.rejects(store.read(), (error: Error) => {
    assert.ok(error instanceof UsageError)
    assert.match(error.message, /a part of the path is not a directory/)
    return true
  })
})

void test('a link pointed elsewhere while its target is locked: the write is refused as a lost lock', async () => {
  const dir = await tempDir()
  const link = join(dir, 'cache.json')
  await symlink('f1.json', link)
  const store = openJsonFileStore({ path: link })
  await assert.rejects(
    store.withLock(async () => {
      await rm(link)
      await symlink('f2.json', link)
      await store.write({ a: 1 })
    }),
    (error: Error) => {
      assert.ok(error instanceof RuntimeFailure)
      assert.equal(error.code, 'cache_lock_lost')
      return true
    },
  )
  assert.deepEqual((await readdir(dir)).sort(), ['cache.json'])
})
