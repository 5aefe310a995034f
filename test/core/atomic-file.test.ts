import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { writeFileAtomically } from '../../src/core/kernel/atomic-file.js'
import { stowLayout } from '../fixtures/link-layouts.js'

const isWindows = process.platform === 'win32'
const temps: string[] = []
after(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'msal-ts-atomic-'))
  temps.push(dir)
  return dir
}

void test(
  'a new file gets the text and exactly the mode asked for, whatever the umask',
  { skip: isWindows },
  async () => {
    const dir = await tempDir()
    const path = join(dir, 'cache.json')
    const umask = process.umask(0o277)
    try {
      await writeFileAtomically(path, '{"a": 1}', { mode: 0o600 })
    } finally {
      process.umask(umask)
    }
    assert.equal(await readFile(path, 'utf8'), '{"a": 1}')
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.deepEqual(await readdir(dir), ['cache.json'])
  },
)

void test(
  'an existing file is replaced whole, and a looser mode it had is not kept',
  { skip: isWindows },
  async () => {
    const dir = await tempDir()
    const path = join(dir, 'cache.json')
    await writeFile(path, 'x'.repeat(10_000), { mode: 0o644 })
    await writeFileAtomically(path, 'short', { mode: 0o600 })
    assert.equal(await readFile(path, 'utf8'), 'short')
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.deepEqual(await readdir(dir), ['cache.json'])
  },
)

void test(
  'a symbolic link is written through: the link stays, its target gets the text',
  { skip: isWindows },
  async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'real'))
    const target = join(dir, 'real', 'cache.json')
    await writeFile(target, 'old')
    const link = join(dir, 'cache.json')
    await symlink(target, link)
    await writeFileAtomically(link, 'new', { mode: 0o600 })
    assert.ok((await lstat(link)).isSymbolicLink())
    assert.equal(await readlink(link), target)
    assert.equal(await readFile(target, 'utf8'), 'new')
    assert.deepEqual(await readdir(join(dir, 'real')), ['cache.json'])
  },
)

void test('a write that cannot take the name leaves what was there and no temporary file', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  await mkdir(path)
  await writeFile(join(path, 'inside'), 'kept')
  await assert.rejects(writeFileAtomically(path, 'new', { mode: 0o600 }))
  assert.deepEqual(await readdir(dir), ['cache.json'])
  assert.equal(await readFile(join(path, 'inside'), 'utf8'), 'kept')
})

/**
 * A child that writes `path` and is killed by `signal` while the new file exists (the flush held up
 * until the signal is sent).
 */
function writeKilled(
  path: string,
  signal: string,
): Promise<{ signal: string | null; stderr: string }> {
  const module = JSON.stringify(
    new URL('../../src/core/kernel/atomic-file.ts', import.meta.url).href,
  )
  const script = [
    `import fs from 'node:fs'`,
    `import { syncBuiltinESMExports } from 'node:module'`,
    `fs.fsync = () => process.kill(process.pid, ${JSON.stringify(signal)})`,
    `syncBuiltinESMExports()`,
    `const { writeFileAtomically } = await import(${module})`,
    `await writeFileAtomically(${JSON.stringify(path)}, 'new', { mode: 0o600 })`,
  ].join('\n')
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (_code, killedBy) => resolve({ signal: killedBy, stderr }))
  })
}

for (const signal of ['SIGKILL', 'SIGTERM']) {
  void test(`a writer killed by ${signal} leaves the old file; the next write that may removes the new file it left`, async () => {
    const dir = await tempDir()
    const path = join(dir, 'cache.json')
    await writeFile(path, 'old')
    const killed = await writeKilled(path, signal)
    assert.equal(killed.signal, signal, killed.stderr)
    assert.equal(await readFile(path, 'utf8'), 'old')
    const left = (await readdir(dir)).filter((name) => name !== 'cache.json')
    assert.equal(left.length, 1)
    assert.match(left[0] ?? '', /^cache\.json\.[0-9a-f]{12}\.tmp$/)
    await writeFileAtomically(path, 'newer', { mode: 0o600 })
    assert.equal((await readdir(dir)).length, 2, 'only a write told to removes them')
    await writeFileAtomically(path, 'newest', { mode: 0o600, removeAbandoned: true })
    assert.deepEqual(await readdir(dir), ['cache.json'])
    assert.equal(await readFile(path, 'utf8'), 'newest')
  })
}

void test('a link whose file is yet to be made is written through: the file is made, the link kept', async () => {
  const dir = await tempDir()
  await mkdir(join(dir, 'real'))
  const link = join(dir, 'cache.json')
  await symlink(join(dir, 'real', 'cache.json'), link)
  await writeFileAtomically(link, 'new', { mode: 0o600 })
  assert.ok((await lstat(link)).isSymbolicLink())
  assert.equal(await readFile(join(dir, 'real', 'cache.json'), 'utf8'), 'new')
})

void test('a loop of links is refused (ELOOP), nothing written', async () => {
  const dir = await tempDir()
  await symlink(join(dir, 'b'), join(dir, 'a'))
  await symlink(join(dir, 'a'), join(dir, 'b'))
  await assert.rejects(writeFileAtomically(join(dir, 'a'), 'new', { mode: 0o600 }), {
    code: 'ELOOP',
  })
  assert.deepEqual((await readdir(dir)).sort(), ['a', 'b'])
})

void test('a relative link reached through a linked directory is read from where its directory really is', async () => {
  const dir = await tempDir()
  const { entry, file } = await stowLayout(dir)
  await writeFileAtomically(entry, 'new', { mode: 0o600 })
  assert.equal(await readFile(file, 'utf8'), 'new')
  assert.deepEqual(await readdir(join(dir, 'home')), ['cfg'])
  assert.ok((await lstat(join(dir, 'data', 'app', 't.json'))).isSymbolicLink())
})
