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
 * A child that writes `path` with the flush held up until the given signal has been sent to
 * itself, so that the signal arrives while the new file exists.
 */
function writeInterrupted(
  path: string,
  signal: string,
  handled: boolean,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const module = JSON.stringify(
    new URL('../../src/core/kernel/atomic-file.ts', import.meta.url).href,
  )
  const script = [
    `import fs from 'node:fs'`,
    `import { syncBuiltinESMExports } from 'node:module'`,
    handled ? `process.on(${JSON.stringify(signal)}, () => {})` : '',
    `const flush = fs.fsync`,
    `fs.fsync = (fd, done) => { process.kill(process.pid, ${JSON.stringify(signal)}); setTimeout(() => flush(fd, done), 50) }`,
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
    child.on('close', (code, killedBy) => resolve({ code, signal: killedBy, stderr }))
  })
}

for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT']) {
  void test(`${signal} during a write ends the process as it would have, without leaving the new file`, async () => {
    const dir = await tempDir()
    const path = join(dir, 'cache.json')
    await writeFile(path, 'old')
    const result = await writeInterrupted(path, signal, false)
    assert.equal(result.signal, signal, result.stderr)
    assert.deepEqual(await readdir(dir), ['cache.json'])
    assert.equal(await readFile(path, 'utf8'), 'old')
  })
}

void test('a signal the program handles itself leaves the write to finish', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  await writeFile(path, 'old')
  const result = await writeInterrupted(path, 'SIGTERM', true)
  assert.equal(result.code, 0, result.stderr)
  assert.deepEqual(await readdir(dir), ['cache.json'])
  assert.equal(await readFile(path, 'utf8'), 'new')
})
