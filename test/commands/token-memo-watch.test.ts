import assert from 'node:assert/strict'
import {
  closeSync,
  lstat as lstatCallback,
  lstatSync,
  openSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { promisify } from 'node:util'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Watch, holdsPassword } from '../../src/commands/token-memo/record.js'
import type { Io } from '../../src/commands/shared/io.js'
import { processIds } from '../../src/commands/token-memo/replay.js'

// What a run may do and still be answered again from a memo: only looks at paths, reads of files
// opened for reading, variables read by name and a write to stdout.

async function settledFile(text = '{}'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'msal-ts-watch-'))
  const file = join(dir, 'file.json')
  writeFileSync(file, text)
  return file
}

function io(): Io & { printed: string[]; stderrUsed: boolean } {
  const printed: string[] = []
  const result = {
    printed,
    stderrUsed: false,
    env: process.env,
    stdout: { write: (text: string) => printed.push(text) },
    get stdin(): never {
      throw new Error('no stdin here')
    },
    get stderr(): never {
      throw new Error('no stderr here')
    },
  }
  return result
}

/** A watch started as if the files in the test had been written long before. */
function watch(): Watch {
  return new Watch(Date.now() + 60_000)
}

test('looks, reads and variables read by name are noted, and leave the run usable', async (t) => {
  const file = await settledFile()
  process.env['MSAL_TS_ACCOUNT'] = 'alice'
  t.after(() => delete process.env['MSAL_TS_ACCOUNT'])
  const w = watch()
  // Nothing awaited: anything else of this process (the test runner, its TypeScript loader's
  // cache) could otherwise use fs meanwhile, and be seen as the run's.
  await w.during(io(), (watched) => {
    readFileSync(file, 'utf8')
    lstatSync(file)
    const fd = openSync(file, 'r')
    closeSync(fd)
    void watched.env['MSAL_TS_ACCOUNT']
    void watched.env['MSAL_TS_NOT_SET']
    watched.stdout.write('token\n')
    return Promise.resolve()
  })
  assert.deepEqual(w.spoiled, [])
  assert.equal(w.printed, 'token\n')
  assert.deepEqual(
    [...w.env],
    [
      ['MSAL_TS_ACCOUNT', 'alice'],
      ['MSAL_TS_NOT_SET', null],
    ],
  )
  assert.deepEqual(
    [...w.paths.keys()].map((key) => key.split('\0')),
    [
      ['stat', file],
      ['lstat', file],
    ],
  )
})

test('looks through fs.promises and callbacks are noted as the synchronous ones are', async () => {
  const file = await settledFile()
  const w = watch()
  await w.during(io(), async () => {
    await readFile(file, 'utf8')
    await promisify(lstatCallback)(file)
  })
  const seen = (look: string) => w.paths.get(`${look}\0${file}`)
  assert.match(seen('stat') ?? '', /^F /)
  assert.equal(seen('lstat'), seen('stat'))
})

test('a symbol read off the environment names no variable and spoils nothing', async () => {
  const w = watch()
  await w.during(io(), (watched) =>
    Promise.resolve(
      Object.prototype.toString.call(watched.env) + String(Symbol.iterator in watched.env),
    ),
  )
  assert.deepEqual(w.spoiled, [])
  assert.deepEqual([...w.env], [])
})

test('process.env is watched too while the run goes on, and given back after', async () => {
  const env = process.env
  const w = watch()
  await w.during(io(), () => Promise.resolve(process.env['MSAL_TS_WATCHED'] ?? ''))
  assert.equal(process.env, env)
  assert.deepEqual([...w.env], [['MSAL_TS_WATCHED', null]])
})

test('a run given an environment other than the process one leaves no memo', async () => {
  const w = watch()
  const other = io()
  other.env = { HOME: '/elsewhere' }
  await w.during(other, () => Promise.resolve())
  assert.equal(w.usable, false)
})

for (const [what, act] of [
  ['a write', (file: string) => writeFileSync(file, '{"x":1}')],
  ['a file opened for writing', (file: string) => closeSync(openSync(file, 'r+'))],
  ['a directory listed', (file: string) => readdirSync(join(file, '..'))],
  ['a write to stderr', (_: string, watched: Io) => watched.stderr],
  ['stdin', (_: string, watched: Io) => watched.stdin],
  ['a question about the terminal', (_: string, watched: Io) => watched.stdout.isTTY],
  ['the environment listed', (_: string, watched: Io) => Object.keys(watched.env)],
  ['a variable set', (_: string, watched: Io) => (watched.env['X'] = '1')],
  [
    'a variable holding a password in a URL (a proxy)',
    (_: string, watched: Io) => watched.env['MSAL_TS_WATCH_PROXY'],
  ],
] as const) {
  test(`${what} leaves no memo`, async (t) => {
    process.env['MSAL_TS_WATCH_PROXY'] = 'http://user:secret@proxy.example:3128'
    t.after(() => delete process.env['MSAL_TS_WATCH_PROXY'])
    const file = await settledFile()
    const w = watch()
    await w.during(io(), (watched) => {
      try {
        act(file, watched)
      } catch {
        // The getters of this fake io throw; the watch has seen the attempt.
      }
      return Promise.resolve()
    })
    assert.equal(w.usable, false)
  })
}

test('a file changed in the last seconds leaves no memo: the same tick could hide a second change', async () => {
  const file = await settledFile()
  const w = new Watch(Date.now())
  await w.during(io(), () => readFile(file, 'utf8'))
  assert.equal(w.usable, false)
  // The same file, its times set well in the past (which also sets ctime to now), is no better.
  utimesSync(file, new Date(0), new Date(0))
  const again = new Watch(Date.now())
  await again.during(io(), () => readFile(file, 'utf8'))
  assert.equal(again.usable, false)
})

test('a file changed while it was read leaves no memo', async () => {
  const file = await settledFile()
  const w = watch()
  await w.during(io(), async () => {
    const text = readFileSync(file, 'utf8')
    await writeFile(file, `${text} `)
    readFileSync(file, 'utf8')
  })
  assert.equal(w.usable, false)
})

test('fs is given back whole after the run, realpath.native included', async () => {
  const before = { stat: statSync, native: (await import('node:fs')).realpathSync.native }
  const w = watch()
  await w.during(io(), () => Promise.resolve())
  const fs = await import('node:fs')
  assert.equal(fs.statSync, before.stat)
  assert.equal(fs.realpathSync.native, before.native)
})

test('a password is told in every way a proxy URL is written, and an email address is not one', () => {
  for (const secret of [
    'http://bob:pw@proxy:3128',
    'HTTPS://bob:pw@proxy',
    'bob:pw@proxy:3128',
    'http://token@proxy',
    'socks5h://u:p@127.0.0.1:99999',
    '--proxy=http://bob:pw@127.0.0.1:9',
    ' http://bob:pw@proxy',
    'http:/bob:pw@proxy',
    'http://bob:p\tw@proxy',
    '//bob:pw@proxy',
  ]) {
    assert.ok(holdsPassword(secret), secret)
  }
  for (const plain of [
    'alice@contoso.com',
    'http://proxy:3128',
    'https://login.microsoftonline.com/contoso.com',
    'https://graph.microsoft.com/User.Read',
    '/home/alice/cache.json',
  ]) {
    assert.ok(!holdsPassword(plain), plain)
  }
})

test('the process a memo names includes its supplementary groups: they decide what it may read', () => {
  assert.ok(processIds().includes(`:${process.getgroups?.().join(',')}:`))
})
