import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout } from 'node:timers/promises'
import { connect, createServer, type AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { after, afterEach, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'
import {
  afterAdvice,
  browserlessClient,
  entryCounts,
  readTokenCache,
  startLogin,
  stsArgs,
  tokenCacheFile,
} from './login-process.js'

const userRead = 'https://graph.microsoft.com/User.Read'
const noTokens = { Account: 0, AccessToken: 0, RefreshToken: 0, IdToken: 0 }

/** Connects and hangs up; resolves with the error code, or 'connected'. */
function probe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    socket.setTimeout(3000, () => {
      socket.destroy()
      resolve('timeout')
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

/**
 * The redirect listener of `msal-ts login`, seen from outside: what a forged or hostile redirect
 * gets, where it listens, and how the wait ends. A plain HTTP client plays the browser.
 */
describe('msal-ts login: the loopback redirect listener', () => {
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
  afterEach(() => {
    sts.settings.idTokenClaims = {}
    sts.settings.authorizeWrongState = false
  })

  function login(home: string, extra: string[] = []) {
    return startLogin(home, [
      'login',
      '--no-browser',
      '--scope',
      userRead,
      ...stsArgs(sts),
      ...extra,
    ])
  }

  /** The redirect URI and state of a printed sign-in URL. */
  function redirectOf(url: URL) {
    return {
      redirectUri: new URL(url.searchParams.get('redirect_uri') ?? ''),
      state: url.searchParams.get('state') ?? '',
    }
  }

  test('a redirect with the wrong state (or none) is refused and the sign-in goes on', async () => {
    const home = await tempDir()
    sts.clearLog()
    const signIn = login(home)
    const url = await signIn.url
    const { redirectUri } = redirectOf(url)

    const forged = await client.get(`${redirectUri.origin}/?code=forged-code&state=not-the-state`)
    assert.equal(forged.status, 400)
    assert.match(await forged.text(), /State mismatch/)
    const stateless = await client.get(`${redirectUri.origin}/?code=forged-code`)
    assert.equal(stateless.status, 400)
    await stateless.body?.cancel()
    const favicon = await client.get(`${redirectUri.origin}/favicon.ico`)
    assert.equal(favicon.status, 404)
    await favicon.body?.cancel()

    // The identity provider's own redirect, but carrying another state: refused as well.
    sts.settings.authorizeWrongState = true
    const tampered = await client.get(await client.authorize(url))
    assert.equal(tampered.status, 400)
    assert.match(await tampered.text(), /State mismatch/)
    sts.settings.authorizeWrongState = false

    // Still listening: the real redirect completes the sign-in.
    const real = await client.get(await client.authorize(url))
    assert.equal(real.status, 200)
    assert.match(await real.text(), /Authentication completed/)
    const result = await signIn.done
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`^Signed in as ${sts.defaults.username}$`, 'm'))
    const redemptions = sts.tokenRequests()
    assert.equal(redemptions.length, 1, 'only the real code was redeemed')
    assert.notEqual(redemptions[0]?.form?.['code'], 'forged-code')
    assert.deepEqual(entryCounts(await readTokenCache(home)), {
      Account: 1,
      AccessToken: 1,
      RefreshToken: 1,
      IdToken: 1,
    })
  })

  test('an error redirect is shown escaped on the page and reported as one line, exit 1', async () => {
    const home = await tempDir()
    sts.clearLog()
    const signIn = login(home)
    const { redirectUri, state } = redirectOf(await signIn.url)
    const query = new URLSearchParams({
      error: 'access_denied',
      error_description: '<script>alert(1)</script>',
      state,
    })
    const response = await client.get(`${redirectUri.origin}/?${query.toString()}`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/)
    const html = await response.text()
    assert.match(html, /Sign-in failed/)
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), html)
    assert.ok(!html.includes('<script>'), 'the description is not markup')

    const result = await signIn.done
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    const lines = afterAdvice(result.stderr).split('\n').slice(1) // after the URL
    assert.equal(lines[0], 'msal-ts: access_denied: <script>alert(1)</script>')
    assert.ok(
      lines.slice(1).every((line) => line === '' || line.startsWith('  ')),
      result.stderr,
    )
    assert.deepEqual(sts.tokenRequests(), [], 'nothing to redeem')
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
  })

  test('the listener answers on 127.0.0.1 only', async () => {
    const home = await tempDir()
    const signIn = login(home)
    const url = await signIn.url
    const port = Number(redirectOf(url).redirectUri.port)

    assert.equal(await probe('127.0.0.1', port), 'connected')
    assert.equal(await probe('::1', port), 'ECONNREFUSED')
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && !address.internal)
      .map((address) => address?.address ?? '')
      .filter((address) => !address.startsWith('fe80:')) // link-local needs a scope id
    for (const address of external) {
      assert.notEqual(await probe(address, port), 'connected', `reachable on ${address}`)
    }

    await client.get(await client.authorize(url))
    const result = await signIn.done
    assert.equal(result.exitCode, 0, result.stderr)
    assert.notEqual(await probe('127.0.0.1', port), 'connected', 'closed after the sign-in')
  })

  test('--no-browser says what to do with the URL: the port it waits on and how to forward it over SSH', async () => {
    const home = await tempDir()
    const signIn = login(home)
    const url = await signIn.url
    const port = redirectOf(url).redirectUri.port
    await client.get(await client.authorize(url))
    const result = await signIn.done
    assert.equal(result.exitCode, 0, result.stderr)
    const lines = result.stderr.split('\n')
    assert.equal(
      lines[0],
      `Open this URL in a browser to sign in; msal-ts waits for the browser to come back to http://localhost:${port}. With the browser on another machine, first run there: ssh -L ${port}:localhost:${port} <this host> (--redirect-port keeps the port the same between runs).`,
    )
    assert.deepEqual(lines.slice(1), [url.toString(), `Signed in as ${sts.defaults.username}`, ''])
  })

  test('without --no-browser and with no display to open one, the URL is printed on its own line', async () => {
    const home = await tempDir()
    const signIn = startLogin(home, ['login', '--scope', userRead, ...stsArgs(sts)])
    const url = await signIn.url
    await client.get(await client.authorize(url))
    const result = await signIn.done
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    const lines = result.stderr.split('\n')
    assert.match(
      lines[0] ?? '',
      /^msal-ts: cannot open a browser \((there is no display|this is a container)\); open this URL to sign in:$/,
    )
    assert.deepEqual(lines.slice(1), [url.toString(), `Signed in as ${sts.defaults.username}`, ''])
  })

  test('BROWSER names the browser: it is run with the sign-in URL, even where no display is seen', async () => {
    const home = await tempDir()
    const opened = join(home, 'opened.txt')
    const browser = join(home, 'browser.sh')
    await writeFile(
      browser,
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${opened}.part' && mv '${opened}.part' '${opened}'\n`,
      {
        mode: 0o755,
      },
    )
    const signIn = startLogin(home, ['login', '--scope', userRead, ...stsArgs(sts)], {
      BROWSER: browser,
      DISPLAY: undefined,
      container: 'docker',
    })
    const url = await signIn.url
    await signIn.line(/^Opening your browser to sign in/)
    await client.get(await client.authorize(url))
    const result = await signIn.done
    assert.equal(result.exitCode, 0, result.stderr)
    // The browser runs detached: its file may come a moment after msal-ts has ended.
    let text: string | undefined
    for (let tries = 0; text === undefined && tries < 200; tries++) {
      text = await readFile(opened, 'utf8').catch(() => undefined)
      if (text === undefined) {
        await setTimeout(50)
      }
    }
    assert.equal(text, `${url.toString()}\n`)
  })

  test('--redirect-port fixes the port; a port in use is exit 2 with one line', async () => {
    const home = await tempDir()
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const { port } = busy.address() as AddressInfo
    try {
      const taken = await run(home, [
        'login',
        '--no-browser',
        '--scope',
        userRead,
        ...stsArgs(sts),
        '--redirect-port',
        String(port),
      ])
      assert.equal(taken.exitCode, 2)
      assert.equal(taken.stdout, '')
      assert.match(
        taken.stderr,
        new RegExp(
          `^msal-ts: port_in_use: cannot listen on 127\\.0\\.0\\.1:${port}: .*--redirect-port\n$`,
        ),
      )
    } finally {
      await new Promise((resolve) => busy.close(resolve))
    }
    const signIn = login(home, ['--redirect-port', String(port)])
    const url = await signIn.url
    assert.equal(url.searchParams.get('redirect_uri'), `http://localhost:${port}`)
    await client.get(await client.authorize(url))
    const done = await signIn.done
    assert.equal(done.exitCode, 0)
    assert.equal(sts.tokenRequests().at(-1)?.form?.['redirect_uri'], `http://localhost:${port}`)
    // The port is already fixed, so the advice leaves out how to fix it.
    assert.equal(
      done.stderr.split('\n')[0],
      `Open this URL in a browser to sign in; msal-ts waits for the browser to come back to http://localhost:${port}. With the browser on another machine, first run there: ssh -L ${port}:localhost:${port} <this host>`,
    )
  })

  test('--wait 2 with no answer ends with exit 1 and a clear message, no stack trace', async () => {
    const home = await tempDir()
    const signIn = login(home, ['--wait', '2'])
    const url = await signIn.url
    const port = Number(redirectOf(url).redirectUri.port)
    const result = await signIn.done
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    assert.equal(
      afterAdvice(result.stderr),
      `${url.toString()}\nmsal-ts: timeout: no sign-in response within 2 s\n`,
    )
    assert.notEqual(await probe('127.0.0.1', port), 'connected', 'the listener is gone')
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
  })

  test('Ctrl-C while waiting exits 130 and leaves the cache file as it was', async () => {
    const home = await tempDir()
    // A fresh home: no cache file appears.
    const first = login(home)
    await first.url
    first.kill('SIGINT')
    const interrupted = await first.done
    assert.equal(interrupted.exitCode, 130)
    assert.equal(interrupted.stdout, '')
    assertNoStack(interrupted.stderr)
    assert.match(interrupted.stderr, /\nmsal-ts: cancelled: interrupted\n$/)
    assert.equal(await tokenCacheFile(home), undefined)

    // A signed-in home: the file keeps every byte.
    const signIn = login(home)
    await client.get(await client.authorize(await signIn.url))
    assert.equal((await signIn.done).exitCode, 0)
    const file = (await tokenCacheFile(home)) ?? ''
    const before = await readFile(file, 'utf8')
    const again = login(home, ['--prompt', 'login'])
    await again.url
    again.kill('SIGINT')
    assert.equal((await again.done).exitCode, 130)
    assert.equal(await readFile(file, 'utf8'), before)
  })

  test('an ID token whose nonce is not the request’s is refused and nothing is cached', async () => {
    const home = await tempDir()
    sts.settings.idTokenClaims = { nonce: 'forged' }
    const signIn = login(home)
    await client.get(await client.authorize(await signIn.url))
    const result = await signIn.done
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    assert.match(
      afterAdvice(result.stderr).split('\n')[1] ?? '',
      /^msal-ts: invalid_id_token: the ID token was refused: its nonce does not match/,
    )
    assert.doesNotMatch(result.stderr, /Signed in as/)
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
  })

  test('--max-age is sent as max_age; a sign-in older than that is refused', async () => {
    const home = await tempDir()
    sts.settings.idTokenClaims = { auth_time: Math.floor(Date.now() / 1000) - 3600 }
    const stale = login(home, ['--max-age', '600'])
    const url = await stale.url
    assert.equal(url.searchParams.get('max_age'), '600')
    await client.get(await client.authorize(url))
    const refused = await stale.done
    assert.equal(refused.exitCode, 1)
    assertNoStack(refused.stderr)
    assert.match(
      afterAdvice(refused.stderr).split('\n')[1] ?? '',
      /^msal-ts: invalid_id_token: the ID token was refused: the sign-in is older than max_age \(600 s\)$/,
    )
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)

    sts.settings.idTokenClaims = {}
    const fresh = login(home, ['--max-age', '600'])
    await client.get(await client.authorize(await fresh.url))
    const accepted = await fresh.done
    assert.equal(accepted.exitCode, 0, accepted.stderr)
    assert.equal(entryCounts(await readTokenCache(home)).AccessToken, 1)
  })
})
