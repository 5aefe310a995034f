import assert from 'node:assert/strict'
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
      await writeFileAtomically(path, '{"a": 1}', 0o600)
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
    await writeFileAtomically(path, 'short', 0o600)
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
    await writeFileAtomically(link, 'new', 0o600)
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
  await assert.rejects(writeFileAtomically(path, 'new', 0o600))
  assert.deepEqual(await readdir(dir), ['cache.json'])
  assert.equal(await readFile(join(path, 'inside'), 'utf8'), 'kept')
})
