import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { launchBrowser, signInWithForm, type TestBrowser } from './chromium.js'
import { assertNoStack, run, tempDir } from './harness.js'
import { afterAdvice, entryCounts, readTokenCache, startLogin, stsArgs } from './login-process.js'

const userRead = 'https://graph.microsoft.com/User.Read'

describe('msal-ts login in a real browser (Chromium)', () => {
  let sts: Sts
  let browser: TestBrowser | undefined

  before(async () => {
    sts = await startSts({ settings: { authorizeMode: 'form' } })
  })
  after(async () => {
    await browser?.close()
    await sts.close()
  })

  /** Runs `login --no-browser`, then signs in the way a person would: URL, form, submit. */
  async function signIn(home: string, extra: string[] = []) {
    await browser?.close()
    browser = await launchBrowser()
    const { page } = browser
    const hosts = new Set<string>()
    browser.context.on('request', (request) => hosts.add(new URL(request.url()).host))
    sts.clearLog()
    const login = startLogin(home, [
      'login',
      '--no-browser',
      '--scope',
      userRead,
      ...stsArgs(sts),
      ...extra,
    ])
    const url = await login.url
    const redirectUri = new URL(url.searchParams.get('redirect_uri') ?? '')
    await page.goto(url.toString())
    assert.equal(await page.title(), 'Sign in to your account')
    await signInWithForm(page, sts.defaults.username, sts.defaults.password)
    await page.waitForURL((u) => u.origin === redirectUri.origin)
    const landing = {
      url: new URL(page.url()),
      heading: await page.locator('h1').textContent(),
      text: await page.locator('main').innerText(),
    }
    assert.deepEqual([...hosts].sort(), [redirectUri.host, sts.host].sort(), 'loopback only')
    return { url, redirectUri, landing, result: await login.done }
  }

  test('sign-in through the form: success page, "Signed in as", the cache filled, then `token` makes no request', async () => {
    const home = await tempDir()
    const { url, redirectUri, landing, result } = await signIn(home)

    assert.equal(landing.heading, 'Authentication completed')
    assert.match(landing.text, /Authentication completed\. You can close this window now\./)
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    const lines = afterAdvice(result.stderr).split('\n')
    assert.deepEqual(lines, [url.toString(), `Signed in as ${sts.defaults.username}`, ''])

    // The authorization request: PKCE S256, state, nonce, client_info, a loopback redirect.
    assert.equal(redirectUri.protocol, 'http:')
    assert.equal(redirectUri.hostname, 'localhost')
    assert.match(redirectUri.port, /^\d+$/)
    assert.equal(url.searchParams.get('client_id'), sts.defaults.publicClientId)
    assert.equal(url.searchParams.get('response_type'), 'code')
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
    assert.equal(url.searchParams.get('client_info'), '1')
    assert.ok((url.searchParams.get('state') ?? '').length >= 16)
    assert.ok((url.searchParams.get('nonce') ?? '').length >= 16)
    assert.deepEqual(
      (url.searchParams.get('scope') ?? '').split(' ').sort(),
      [userRead, 'offline_access', 'openid', 'profile'].sort(),
    )

    // What the STS received: the page, the form post, then one code redemption with the verifier.
    const authorize = sts.requests({ path: '/oauth2/v2.0/authorize' })
    assert.deepEqual(
      authorize.map((r) => `${r.method} ${r.status}`),
      ['GET 200', 'POST 302'],
    )
    const [redemption, ...more] = sts.tokenRequests()
    assert.equal(more.length, 0)
    assert.equal(redemption?.status, 200)
    assert.equal(redemption?.form?.['grant_type'], 'authorization_code')
    assert.equal(redemption?.form?.['redirect_uri'], redirectUri.origin)
    assert.equal(
      createHash('sha256')
        .update(redemption?.form?.['code_verifier'] ?? '')
        .digest('base64url'),
      url.searchParams.get('code_challenge'),
    )

    const cache = await readTokenCache(home)
    assert.deepEqual(entryCounts(cache), {
      Account: 1,
      AccessToken: 1,
      RefreshToken: 1,
      IdToken: 1,
    })
    const [account] = Object.values(cache?.Account ?? {})
    assert.equal(account?.['username'], sts.defaults.username)
    const [accessToken] = Object.values(cache?.AccessToken ?? {})

    sts.clearLog()
    const token = await run(home, ['token', '--scope', userRead, ...stsArgs(sts)])
    assert.equal(token.exitCode, 0, token.stderr)
    assert.equal(token.stderr, '')
    assert.equal(token.stdout, `${String(accessToken?.['secret'])}\n`)
    assert.deepEqual(sts.log, [], 'the token came from the cache: no request at all')
  })

  test('--response-mode form_post: the provider posts the code to the listener', async () => {
    const home = await tempDir()
    const { url, redirectUri, landing, result } = await signIn(home, [
      '--response-mode',
      'form_post',
    ])
    assert.equal(url.searchParams.get('response_mode'), 'form_post')
    assert.equal(landing.url.origin, redirectUri.origin)
    assert.equal(landing.url.search, '', 'the code did not travel in the URL')
    assert.equal(landing.heading, 'Authentication completed')
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, new RegExp(`^Signed in as ${sts.defaults.username}$`, 'm'))
    assert.equal(sts.tokenRequests().length, 1)
    assert.deepEqual(entryCounts(await readTokenCache(home)), {
      Account: 1,
      AccessToken: 1,
      RefreshToken: 1,
      IdToken: 1,
    })
  })
})
