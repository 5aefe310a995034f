/* eslint-disable no-control-regex -- control characters are what these tests look for */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import { jsonText, printable } from '../../src/commands/shared/printable.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir, withoutCaFile } from './harness.js'
import { Terminal } from './terminal.js'

const userRead = 'https://graph.microsoft.com/User.Read'
/** Retitles the terminal, clears it, and starts a line of its own that looks like ours. */
const attack = '\u001b]0;pwned\u0007\u001b[2J\r\nmsal-ts: forged'
/** A username that would print a second "Signed in as" line, right to left. */
const evilUsername = `eve@contoso.com\u001b[1A\r\nSigned in as admin@evil\u202e\u2028`

/** Nothing in it acts on a terminal: no control, bidi or line-separator character but LF. */
function assertInert(text: string): void {
  assert.doesNotMatch(
    text,
    /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u,
    JSON.stringify(text),
  )
}

/** No line a person would take for one of ours, or for a sign-in that did not happen. */
function assertNoForgedLine(text: string): void {
  for (const line of text.split('\n')) {
    assert.doesNotMatch(line, /^(msal-ts: forged|Signed in as admin@evil)/, JSON.stringify(text))
  }
}

describe('printable', () => {
  test('every C0 and C1 control and DEL becomes a visible \\u escape', () => {
    for (let code = 0; code <= 0x9f; code++) {
      if (code >= 0x20 && code < 0x7f) {
        continue
      }
      const char = String.fromCharCode(code)
      assert.equal(printable(`a${char}b`), `a\\u${code.toString(16).padStart(4, '0')}b`)
    }
  })

  test('bidi controls and the line and paragraph separators are escaped too', () => {
    const bidi = [0x61c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e]
    for (const code of [...bidi, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029]) {
      assert.equal(printable(String.fromCharCode(code)), `\\u${code.toString(16).padStart(4, '0')}`)
    }
  })

  test('exactly the controls, bidi controls and separators Unicode names, spelt out', () => {
    const named = /[\p{Cc}\p{Bidi_Control}\u2028\u2029]/u
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code)
      if (code >= 0xd800 && code <= 0xdfff) {
        continue
      }
      assert.equal(printable(char) !== char, named.test(char), `U+${code.toString(16)}`)
    }
    for (const char of ['\u{1f642}', '\u{e0001}', '\u{1d173}']) {
      assert.equal(printable(char) !== char, named.test(char), char)
    }
  })

  test('a forged line stays on the line it came in', () => {
    assert.equal(printable(attack), '\\u001b]0;pwned\\u0007\\u001b[2J\\u000d\\u000amsal-ts: forged')
  })

  test('jsonText: the same JSON value, with no raw DEL, C1, bidi control or separator', () => {
    const value = { name: 'a\u009b2J\u007f\u202e\u2028é 名 🙂', n: [1, null] }
    const text = jsonText(value)
    assert.deepEqual(JSON.parse(text), value)
    assert.doesNotMatch(text, /[\u007f-\u009f\u202e\u2028]/u)
    assert.equal(
      text,
      `${JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u202e\u2028]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`,
    )
  })

  test('text of any script, emoji and plain punctuation is kept as is', () => {
    for (const text of [
      'José Müller',
      '山田太郎',
      'Ελένη',
      'שלום عربي',
      '👩🏽‍💻 🇫🇷',
      'a-b_c.d@e ~!?\\ "x"',
      '',
    ]) {
      assert.equal(printable(text), text)
    }
  })
})

describe('text from outside reaches the terminal neutralised', () => {
  let sts: Sts

  before(async () => {
    sts = await startSts()
  })
  after(() => sts.close())
  beforeEach(() => {
    sts.settings.idTokenClaims = {}
    sts.clearFaults()
  })

  const common = () => sts.cliArgs(sts.defaults.publicClientId)
  const passwordLogin = (home: string, ...extra: string[]) =>
    run(
      home,
      ['login', ...common(), '--username', sts.defaults.username, '--password-stdin', ...extra],
      { input: sts.defaults.password },
    )

  async function cacheFile(home: string): Promise<string> {
    const dir = join(home, 'cache')
    const [file] = (await readdir(dir)).filter((f) => f.startsWith('token-cache.'))
    assert.ok(file)
    return join(dir, file)
  }

  /** Signed in, then the cache file rewritten as a hostile hand would: two accounts with forged names. */
  async function plantedCache(): Promise<string> {
    const home = await tempDir()
    assert.equal((await passwordLogin(home, '--scope', userRead)).exitCode, 0)
    const path = await cacheFile(home)
    const doc = JSON.parse(await readFile(path, 'utf8')) as {
      Account: Record<string, Record<string, string>>
    }
    const [[key, account] = []] = Object.entries(doc.Account)
    assert.ok(key !== undefined && account !== undefined)
    doc.Account[key] = { ...account, username: evilUsername }
    const other = 'ffffffff-0000-4000-8000-000000000000.' + (account['realm'] ?? '')
    doc.Account[`${other}-${account['environment']}-${account['realm']}`] = {
      ...account,
      home_account_id: other,
      username: `mallory\u009b2J\u0085${attack}`,
    }
    await writeFile(path, JSON.stringify(doc))
    return home
  }

  test('login --device-code: the provider message is shown, inert, on one line', async () => {
    const home = await tempDir()
    sts.inject({
      match: { path: '/oauth2/v2.0/devicecode' },
      status: 200,
      body: {
        user_code: 'ABCDEFGHJ',
        device_code: 'not-a-code-the-sts-knows',
        verification_uri: `${sts.url}/devicelogin`,
        expires_in: 900,
        interval: 1,
        message: `Enter the code ABCDEFGHJ${attack}`,
      },
    })
    const result = await run(home, ['login', '--device-code', '--scope', userRead, ...common()])
    assert.equal(result.exitCode, 1)
    assertInert(result.stderr)
    assertNoForgedLine(result.stderr)
    assertNoStack(result.stderr)
    const [first] = result.stderr.split('\n')
    assert.equal(first, `Enter the code ABCDEFGHJ${printable(attack)}`)
  })

  test('login and migrate-rt: a username from the ID token cannot forge "Signed in as"', async () => {
    const home = await tempDir()
    sts.settings.idTokenClaims = { preferred_username: evilUsername, name: attack }
    const login = await passwordLogin(home, '--scope', userRead, '-o', 'json')
    assert.equal(login.exitCode, 0, login.stderr)
    assert.equal(login.stderr, `Signed in as ${printable(evilUsername)}\n`)
    assertInert(login.stderr)
    // Machine output keeps the text exact: JSON escapes it.
    const doc = JSON.parse(login.stdout) as { account: { username: string } }
    assert.equal(doc.account.username, evilUsername)

    const cache = JSON.parse(await readFile(await cacheFile(home), 'utf8')) as {
      RefreshToken: Record<string, { secret: string }>
    }
    const [refreshToken] = Object.values(cache.RefreshToken).map((rt) => rt.secret)
    assert.ok(refreshToken)
    const migrated = await run(
      await tempDir(),
      ['migrate-rt', ...common(), '--scope', userRead, '--refresh-token-stdin'],
      { input: refreshToken },
    )
    assert.equal(migrated.exitCode, 0, migrated.stderr)
    assert.equal(migrated.stderr, `Migrated the refresh token of ${printable(evilUsername)}\n`)
    assert.equal((JSON.parse(migrated.stdout) as { username: string }).username, evilUsername)
  })

  test('accounts -o table: cells from the cache file are inert; -o json stays exact', async () => {
    const home = await plantedCache()
    const table = await run(home, ['accounts', ...withoutCaFile(common()), '-o', 'table'])
    assert.equal(table.exitCode, 0, table.stderr)
    assertInert(table.stdout)
    assertNoForgedLine(table.stdout)
    const lines = table.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 3, table.stdout)
    assert.ok(lines.some((line) => line.startsWith(printable(evilUsername))))

    // With colour forced the header is bold, and that is the only escape sequence.
    const coloured = await run(home, ['accounts', ...withoutCaFile(common()), '-o', 'table'], {
      env: { FORCE_COLOR: '1' },
    })
    assert.equal(coloured.exitCode, 0, coloured.stderr)
    assert.match(coloured.stdout, /^\u001b\[1mUSERNAME/)
    assertInert(coloured.stdout.replaceAll('\u001b[1m', '').replaceAll('\u001b[22m', ''))

    // JSON escapes C0 itself; C1, bidi and separators are written as \u escapes: the same value.
    const json = await run(home, ['accounts', ...withoutCaFile(common()), '-o', 'json'])
    assertInert(json.stdout)
    const usernames = (JSON.parse(json.stdout) as { username: string }[]).map((a) => a.username)
    assert.ok(usernames.includes(evilUsername))
  })

  test('token and logout: errors and messages naming accounts from the cache are inert', async () => {
    const home = await plantedCache()
    const token = await run(home, ['token', ...common(), '--scope', userRead])
    assert.equal(token.exitCode, 2)
    assert.match(token.stderr, /^msal-ts: several_accounts: several accounts are signed in \(/)
    assert.equal(token.stderr.split('\n').length, 2, token.stderr)
    assertInert(token.stderr)
    assertNoForgedLine(token.stderr)

    const logout = await run(home, ['logout', ...withoutCaFile(common()), '--all'])
    assert.equal(logout.exitCode, 0, logout.stderr)
    assert.match(logout.stderr, /^Signed out /)
    assert.equal(logout.stderr.split('\n').length, 2, logout.stderr)
    assertInert(logout.stderr)
    assertNoForgedLine(logout.stderr)
  })

  test('an error description cannot add a line or colour the terminal', async () => {
    const home = await tempDir()
    sts.inject({
      match: { path: '/oauth2/v2.0/token' },
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'bad\rmsal-ts: forged\u001b[31m\r\nTrace ID: x',
        error_codes: [90014],
        trace_id: 'trace\r\nmsal-ts: forged',
        correlation_id: 'corr\u001b[2J',
      },
    })
    const result = await passwordLogin(home, '--scope', userRead)
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    const [first, second, end] = result.stderr.split('\n')
    assert.equal(first, 'msal-ts: invalid_request: bad\\u000dmsal-ts: forged\\u001b[31m')
    assert.match(second ?? '', /^ {2}status 400; error_codes 90014/)
    assert.equal(end, '')
    assertInert(result.stderr)
    assertNoForgedLine(result.stderr)
  })

  test('on a terminal: the account picker and the logout prompt show the names inert', async () => {
    const home = await plantedCache()
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      MSAL_TS_CACHE_DIR: join(home, 'cache'),
      TERM: 'xterm-256color',
    }
    const terminal = new Terminal(await tempDir())
    await terminal.start(['token', ...common(), '--scope', userRead], env)
    const picker = await terminal.waitFor(/Which account\?/)
    assert.ok(picker.includes(printable(evilUsername)), picker)
    assertNoForgedLine(picker)
    assert.notEqual(await terminal.title(), 'pwned')
    await terminal.keys('C-c')
    assert.equal((await terminal.finished()).exitCode, 130)

    await terminal.start(['logout', ...withoutCaFile(common()), '--all'], env)
    const confirm = await terminal.waitFor(/Sign out [\s\S]*\(y\/N\)/)
    assert.ok(confirm.includes(printable(evilUsername)), confirm)
    assertNoForgedLine(confirm)
    assert.notEqual(await terminal.title(), 'pwned')
    await terminal.keys('n', 'Enter')
    // Declining is no interruption: exit 1, as for an operation not done (130 stays Ctrl-C's).
    assert.equal((await terminal.finished()).exitCode, 1)
  })
})
