/**
 * The hostile-provider table (issue #15): each row is a hostile answer from the identity provider
 * or managed identity endpoint, or a hostile file planted where msal-ts keeps its cache. Whatever
 * comes, msal-ts exits with the documented code, says so in one clean line (plus the provider's
 * details line), prints no token, leaves the cache as it was and sends no credential where it must not.
 * The rows are in `hostile/`, by class; redirects to the login listener are at the end of this file.
 */
import assert from 'node:assert/strict'
import { lstat, mkdir, readFile, readlink, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, afterEach, before, describe, test } from 'node:test'
import { fetch, type Response } from 'undici'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, bin, run, tempDir, type CliResult } from './harness.js'
import { fileRows } from './hostile/file-rows.js'
import { providerRows } from './hostile/provider-rows.js'
import {
  appScope,
  clientToken,
  controlCharacter,
  forgedLine,
  passwordLogin,
  userRead,
  type Ctx,
  type Invocation,
  type Row,
} from './hostile/row.js'
import { startScriptedServer, type ScriptedServer } from './hostile/scripted-server.js'
import {
  afterAdvice,
  browserlessClient,
  entryCounts,
  startLogin,
  stsArgs,
  type TokenCacheFile,
} from './login-process.js'

const rows: Row[] = [...providerRows, ...fileRows]

/** What the cache path holds, compared before and after: bytes, or what kind of thing it is. */
async function snapshot(path: string): Promise<unknown> {
  const stat = await lstat(path).catch(() => undefined)
  if (stat === undefined) {
    return 'absent'
  }
  const owner = { uid: stat.uid, mode: stat.mode }
  if (stat.isSymbolicLink()) {
    return { ...owner, link: await readlink(path) }
  }
  // Huge planted files are compared by identity rather than read into the test process.
  if (!stat.isFile() || stat.size > 16 * 1024 * 1024) {
    return { ...owner, ino: stat.ino, size: stat.size, mtime: stat.mtimeMs }
  }
  return { ...owner, bytes: await readFile(path) }
}

/** Runs the invocation, under /usr/bin/time when the row bounds memory; the peak RSS in MiB. */
async function invoke(
  ctx: Ctx,
  invocation: Invocation,
  measure: boolean,
): Promise<CliResult & { rssMiB?: number }> {
  const options = {
    ...(invocation.env === undefined ? {} : { env: invocation.env }),
    ...(invocation.input === undefined ? {} : { input: invocation.input }),
  }
  if (!measure) {
    return run(ctx.home, invocation.args, options)
  }
  const rssFile = join(ctx.home, 'rss')
  // `timeout` kills msal-ts itself: killing /usr/bin/time would leave it reading an endless source.
  const guarded = ['timeout', '-s', 'KILL', '30', bin, ...invocation.args]
  const result = await run(ctx.home, ['-f', '%M', '-o', rssFile, ...guarded], {
    ...options,
    bin: '/usr/bin/time',
  })
  const kib = Number(/(\d+)\s*$/.exec(await readFile(rssFile, 'utf8'))?.[1])
  return { ...result, rssMiB: kib / 1024 }
}

async function warm(ctx: Ctx, row: Row): Promise<void> {
  const kind = row.warm ?? 'app'
  if (kind === 'none') {
    return
  }
  const invocation = kind === 'app' ? clientToken(ctx) : passwordLogin(ctx)
  const args = invocation.args.map((arg) => (arg === appScope ? 'api://warm/.default' : arg))
  const result = await invoke(ctx, { ...invocation, args }, false)
  assert.equal(result.exitCode, 0, `warming the cache: ${result.stderr}`)
  if (row.coldDiscovery === true) {
    await rm(join(dirname(ctx.cacheFile), 'msal-ts.http-cache.json'), { force: true })
  }
}

function assertCleanFailure(row: Row, result: CliResult): void {
  assert.equal(result.stdout, '', 'no token on stdout')
  const lines = result.stderr.replace(/\n$/, '').split('\n')
  const at = row.leadingLines ?? 0
  const [line = '', ...rest] = lines.slice(at)
  assert.match(line, /^msal-ts: /, `the error line:\n${result.stderr}`)
  const error = line.replace(/^msal-ts: /, '')
  assert.doesNotMatch(error, /^internal_error\b/)
  assert.match(error, row.error ?? /^[a-z][a-z0-9_]*: \S/)
  assert.ok(
    rest.length === 0 || (rest.length === 1 && /^ {2}\S/.test(rest[0] ?? '')),
    `one error line, and at most the provider's details:\n${result.stderr}`,
  )
}

describe('hostile provider table: every hostile answer or file is a clean, documented failure', () => {
  let sts: Sts
  let mi: ScriptedServer

  before(async () => {
    sts = await startSts()
    mi = await startScriptedServer()
  })
  after(async () => {
    await Promise.all([sts.close(), mi.close()])
  })

  let saved: Sts['settings'] | undefined
  afterEach(() => {
    sts.clearFaults()
    if (saved !== undefined) {
      sts.settings = saved
    }
    mi.answer({ status: 404, body: { error: 'not_found' } })
    mi.requests.splice(0)
  })

  for (const row of rows) {
    test(`[${row.class}] ${row.name}`, async () => {
      saved = structuredClone(sts.settings)
      const home = await tempDir()
      const ctx: Ctx = {
        sts,
        mi,
        home,
        cacheFile: join(home, 'c', 'tokens.json'),
        dir: join(home, 'planted'),
      }
      await mkdir(dirname(ctx.cacheFile), { recursive: true, mode: 0o700 })
      await mkdir(ctx.dir)
      await warm(ctx, row)
      sts.clearLog()
      for (const fault of row.faults ?? []) {
        sts.inject(fault)
      }
      await row.setup?.(ctx)
      const before = await snapshot(ctx.cacheFile)

      const result = await invoke(ctx, row.run(ctx), row.maxRssMiB !== undefined)

      assert.equal(result.exitCode, row.exitCode, result.stderr)
      assertNoStack(result.stderr)
      assert.doesNotMatch(result.stderr, controlCharacter, 'no control byte on stderr')
      assert.doesNotMatch(result.stdout, controlCharacter, 'no control byte on stdout')
      if (row.exitCode !== 0) {
        assertCleanFailure(row, result)
      }
      if (row.cache !== 'any') {
        assert.deepEqual(await snapshot(ctx.cacheFile), before, 'the cache is as it was')
      }
      if (row.maxRssMiB !== undefined) {
        assert.ok(
          (result.rssMiB ?? Infinity) < row.maxRssMiB,
          `peak RSS ${String(result.rssMiB)} MiB`,
        )
      }
      await row.check?.(ctx, result)
    })
  }
})

/** What the test sends to the login listener, given its origin, the state it waits for, and the STS. */
interface Redirect {
  origin: string
  state: string
  /** A genuine redirect from the STS, with a real code. */
  genuine: () => Promise<URL>
}

interface RedirectRow {
  name: string
  /** Sends the hostile request; returns the code it carried, which must never be redeemed. */
  send(client: ReturnType<typeof browserlessClient>, redirect: Redirect): Promise<string>
  /** `waits`: ignored, and a genuine redirect then signs in; `fails`: exit 1; `either` of the two. */
  outcome: 'waits' | 'fails' | 'either'
  /**
   * The exit code of a refusal; default 1. A response failing the authorization response checks is
   * refused as bad input (2), as `redeem --response` refuses the same response pasted by hand.
   */
  refusal?: number
}

/** Sends and forgets: a listener that hangs up on a hostile request is a fine answer. */
async function deliver(request: Promise<Response>): Promise<void> {
  const response = await request.catch(() => undefined)
  await response?.body?.cancel().catch(() => undefined)
}

const withQuery = (origin: string, query: string) => `${origin}/?${query}`

const redirectRows: RedirectRow[] = [
  {
    name: 'a code with a forged state',
    outcome: 'waits',
    send: async (client, { origin }) => {
      await deliver(client.get(withQuery(origin, 'code=forged-code&state=forged')))
      return 'forged-code'
    },
  },
  {
    name: 'an error_description holding ESC/CR/LF',
    outcome: 'fails',
    send: async (client, { origin, state }) => {
      const query = new URLSearchParams({
        error: 'access_denied',
        error_description: forgedLine,
        state,
      })
      await deliver(client.get(withQuery(origin, query.toString())))
      return ''
    },
  },
  {
    name: 'an error code holding ESC/CR/LF',
    outcome: 'fails',
    send: async (client, { origin, state }) => {
      const query = new URLSearchParams({ error: forgedLine, state })
      await deliver(client.get(withQuery(origin, query.toString())))
      return ''
    },
  },
  {
    name: 'a huge query (1 MiB)',
    outcome: 'either',
    send: async (client, { origin, state }) => {
      const query = new URLSearchParams({ code: 'huge-code', state, pad: 'A'.repeat(1024 * 1024) })
      await deliver(client.get(withQuery(origin, query.toString())))
      return 'huge-code'
    },
  },
  {
    name: 'a genuine code with the iss of another issuer (RFC 9207)',
    outcome: 'either',
    refusal: 2,
    send: async (client, { genuine }) => {
      const url = await genuine()
      url.searchParams.set('iss', 'https://evil.example/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0')
      await deliver(client.get(url))
      return url.searchParams.get('code') ?? ''
    },
  },
  ...(['forged first', 'forged second'] as const).map((order): RedirectRow => ({
    name: `state given twice (${order})`,
    outcome: 'either',
    send: async (client, { genuine }) => {
      const url = await genuine()
      const state = url.searchParams.get('state') ?? ''
      const states = order === 'forged first' ? ['forged', state] : [state, 'forged']
      url.searchParams.delete('state')
      for (const value of states) {
        url.searchParams.append('state', value)
      }
      await deliver(client.get(url))
      return url.searchParams.get('code') ?? ''
    },
  })),
  {
    name: 'a form_post with a 64 MiB body',
    outcome: 'either',
    send: async (_client, { origin, state }) => {
      const body = `code=posted-code&state=${encodeURIComponent(state)}&pad=${'A'.repeat(64 * 1024 * 1024)}`
      await deliver(
        fetch(origin, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }),
      )
      return 'posted-code'
    },
  },
]

describe('hostile redirects to the login listener: ignored, or a clean exit 1; nothing cached from them', () => {
  let sts: Sts
  let client: ReturnType<typeof browserlessClient>

  before(async () => {
    sts = await startSts()
    client = browserlessClient(sts)
  })
  after(async () => {
    await client.close()
    await sts.close()
  })

  for (const row of redirectRows) {
    const refused = `exit ${row.refusal ?? 1}`
    const outcome =
      row.outcome === 'either'
        ? `ignored or ${refused}`
        : row.outcome === 'waits'
          ? 'ignored'
          : refused
    test(`${row.name}: ${outcome}`, async () => {
      const home = await tempDir()
      const cacheFile = join(home, 'tokens.json')
      sts.clearLog()
      const signIn = startLogin(home, [
        'login',
        '--no-browser',
        '--wait',
        '30',
        '--scope',
        userRead,
        ...stsArgs(sts),
        '--cache-file',
        cacheFile,
      ])
      const url = await signIn.url
      const redirect: Redirect = {
        origin: new URL(url.searchParams.get('redirect_uri') ?? '').origin,
        state: url.searchParams.get('state') ?? '',
        genuine: () => client.authorize(url),
      }
      const hostileCode = await row.send(client, redirect)
      let genuineCode = ''
      if (row.outcome !== 'fails') {
        const genuine = await client.authorize(url)
        genuineCode = genuine.searchParams.get('code') ?? ''
        await deliver(client.get(genuine))
      }
      const result = await signIn.done

      assertNoStack(result.stderr)
      assert.doesNotMatch(result.stderr, controlCharacter, 'no control byte on stderr')
      assert.doesNotMatch(result.stderr, /^msal-ts: forged/m, 'no forged line')
      assert.equal(result.stdout, '')
      const redeemed = sts.tokenRequests().map((entry) => entry.form?.['code'])
      if (hostileCode !== '') {
        assert.ok(!redeemed.includes(hostileCode), 'the hostile code is never redeemed')
      }
      const refusal = row.refusal ?? 1
      const expected =
        row.outcome === 'either' ? [0, refusal] : [row.outcome === 'waits' ? 0 : refusal]
      assert.ok(expected.includes(result.exitCode), `exit ${result.exitCode}:\n${result.stderr}`)
      if (result.exitCode === 0) {
        assert.deepEqual(redeemed, [genuineCode], 'only the genuine code is redeemed')
        return
      }
      assert.deepEqual(redeemed, [], 'nothing redeemed')
      const lines = afterAdvice(result.stderr).replace(/\n$/, '').split('\n').slice(1) // after the URL
      assert.match(lines[0] ?? '', /^msal-ts: [a-z][a-z0-9_]*: /)
      assert.ok(
        lines.slice(1).every((line) => line.startsWith('  ')),
        result.stderr,
      )
      assert.deepEqual(entryCounts(await readCacheFile(cacheFile)), noTokens, 'nothing cached')
    })
  }
})

const noTokens = { Account: 0, AccessToken: 0, RefreshToken: 0, IdToken: 0 }

async function readCacheFile(path: string): Promise<TokenCacheFile | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined)
  return text === undefined ? undefined : (JSON.parse(text) as TokenCacheFile)
}
