import assert from 'node:assert/strict'
import { closeSync, openSync } from 'node:fs'
import { mkdtemp, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { checkFile, followLinks, readFileSafely } from '../../src/core/kernel/safe-file.js'

const temps: string[] = []
after(() => Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true }))))

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'msal-ts-safe-file-'))
  temps.push(dir)
  return dir
}

const rules = { maxBytes: 1024 * 1024, ownFile: true }

void test('an open file reached through /proc/self/fd is the file itself, even deleted', async () => {
  const dir = await tempDir()
  const file = join(dir, 'ca.pem')
  await writeFile(file, 'text')
  const fd = openSync(file, 'r')
  try {
    await unlink(file)
    assert.equal(readFileSafely(`/proc/self/fd/${fd}`, rules), 'text')
  } finally {
    closeSync(fd)
  }
})

void test('`missing/..` is no file, and nothing can be made there', async () => {
  const dir = await tempDir()
  await writeFile(join(dir, 'c.json'), '{}')
  assert.equal(checkFile(`${dir}/missing/../c.json`, rules), undefined)
  assert.throws(() => followLinks(`${dir}/missing/../c.json`), { code: 'ENOENT' })
})

void test('a missing path ending in a slash names a directory, never a file to make', async () => {
  const dir = await tempDir()
  assert.throws(() => followLinks(`${dir}/nf/`), { code: 'EISDIR' })
  assert.throws(() => followLinks(`${dir}/nf/.`), { code: 'EISDIR' })
  await symlink('nowhere/', join(dir, 'dangling'))
  assert.throws(() => followLinks(join(dir, 'dangling')), { code: 'EISDIR' })
  assert.deepEqual(await readdir(dir), ['dangling'])
})

void test('a missing part is made as named: the target keeps its names, tidied of `.` and `//`', async () => {
  const dir = await tempDir()
  assert.deepEqual(followLinks(`${dir}/a/./b//c.json`), {
    target: join(dir, 'a', 'b', 'c.json'),
    stats: undefined,
  })
})
