/**
 * The README's blocks that need a person at a sign-in page, run as written: the sign-ins under
 * "People" against the test STS, completed in Chromium or by its device-code script; "Any OpenID
 * provider" against oidc-provider with its sign-in pages completed in Chromium; "Web apps and
 * migration" against the test STS with the redirect URL typed in where the script asks for it.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { Agent, request } from 'undici'
import { completeProviderPages } from '../fixtures/oidc/pages.js'
import { demoResource, startOidcProvider } from '../fixtures/oidc/provider.js'
import { makeClientCertificate } from '../fixtures/pki.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { freePort } from '../fixtures/loopback-server.js'
import { launchBrowser, signInWithForm, type TestBrowser } from './chromium.js'
import { run, tempDir } from './harness.js'
import { readTokenCache } from './login-process.js'
import { fillIn, lineMatching, recipe, startShell } from './readme.js'

const webAppId = '3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f'
const webRedirect = 'https://app.example.com/cb'
const graph = 'https://graph.microsoft.com'
const graphRead = `${graph}/User.Read`

/** The access token in the cache file of `clientId`, there being one. */
async function cachedAccessToken(home: string, clientId: string) {
  const dir = join(home, 'cache')
  const file = (await readdir(dir)).filter((name) => name.startsWith(`token-cache.${clientId}.`))
  assert.equal(file.length, 1, `one cache file of ${clientId}`)
  const cache = JSON.parse(await readFile(join(dir, file[0] ?? ''), 'utf8')) as {
    AccessToken: Record<string, { secret: string }>
  }
  const tokens = Object.values(cache.AccessToken)
  assert.equal(tokens.length, 1, 'one access token in the cache')
  return tokens[0]?.secret
}

/** Signs in at the STS's form where `url` leads, and waits until the browser is back at msal-ts. */
async function signInAt(browser: TestBrowser, sts: Sts, url: string) {
  const back = new URL(new URL(url).searchParams.get('redirect_uri') ?? '').origin
  await browser.page.goto(url)
  await signInWithForm(browser.page, sts.defaults.username, sts.defaults.password)
  await browser.page.waitForURL((landed) => landed.origin === back)
}

describe('README recipes with a sign-in page or a web app', () => {
  test('people: login in the browser, then with a device code, then with --no-browser on a fixed port', async () => {
    const sts = await startSts({
      settings: {
        authorizeMode: 'form',
        deviceCodeInterval: 1,
        devicePollScript: ['authorization_pending', 'success'],
      },
    })
    const browser = await launchBrowser()
    try {
      const home = await tempDir()
      const port = await freePort()
      const script = fillIn(recipe('sign-in'), {
        '--redirect-port 8400': `--redirect-port ${String(port)}`,
      })
      const env = {
        MSAL_TS_CLIENT_ID: sts.defaults.publicClientId,
        MSAL_TS_AUTHORITY: sts.authority(),
        NODE_EXTRA_CA_CERTS: sts.caFile,
      }
      const shell = startShell(home, script, env, { stdin: 'ignore' })
      // Listening for all three before any can be printed, so none is missed.
      const signInUrl = lineMatching(shell.stderr, /^https:\/\/\S+\/oauth2\/v2\.0\/authorize\?\S+$/)
      const deviceCode = lineMatching(
        shell.stderr,
        /^To sign in, use a web browser to open the page \S+ and enter the code [A-Z0-9]{9} to authenticate\.$/,
      )
      const forwardedUrl = lineMatching(
        shell.stderr,
        new RegExp(
          `^https://\\S+\\?\\S*redirect_uri=http%3A%2F%2Flocalhost%3A${String(port)}(&|$)`,
        ),
      )
      for (const line of [signInUrl, deviceCode, forwardedUrl]) {
        line.catch(() => undefined)
      }

      // No display here, so msal-ts prints the URL instead of opening a browser; a person opens it.
      await signInAt(browser, sts, await signInUrl)
      // The STS's poll script plays the person entering the code on another device.
      await deviceCode
      // The browser at the far end of the SSH forward: another machine, no session at the STS.
      await browser.context.clearCookies()
      await signInAt(browser, sts, await forwardedUrl)
      const result = await shell
      assert.equal(result.exitCode, 0, String(result.stderr))

      const stderr = String(result.stderr)
      assert.match(
        stderr,
        /^msal-ts: cannot open a browser \((there is no display|this is a container)\); open this URL to sign in:$/m,
      )
      assert.equal(
        stderr.split('\n').filter((line) => line === `Signed in as ${sts.defaults.username}`)
          .length,
        3,
        stderr,
      )
      assert.deepEqual(
        sts.tokenRequests().map((r) => [r.form?.['grant_type'], r.status]),
        [
          ['authorization_code', 200],
          ['urn:ietf:params:oauth:grant-type:device_code', 400],
          ['urn:ietf:params:oauth:grant-type:device_code', 200],
          ['authorization_code', 200],
        ],
      )
      assert.equal(
        sts.tokenRequests().at(-1)?.form?.['redirect_uri'],
        `http://localhost:${String(port)}`,
      )
      assert.deepEqual(
        sts.requests({ path: '/oauth2/v2.0/authorize' }).map((r) => `${r.method} ${r.status}`),
        ['GET 200', 'POST 302', 'GET 200', 'POST 302'],
        'both browser sign-ins went through the form',
      )
      const accounts = Object.values((await readTokenCache(home))?.Account ?? {})
      assert.deepEqual(
        accounts.map((account) => account['username']),
        [sts.defaults.username],
      )
      const listed = await run(home, ['accounts'], { env })
      assert.equal(listed.exitCode, 0, listed.stderr)
      assert.ok(listed.stdout.includes(sts.defaults.username), listed.stdout)
    } finally {
      await browser.close()
      await sts.close()
    }
  })

  test('any OpenID provider: login at its pages in a browser, token from the cache, client-token with a secret on stdin', async () => {
    const op = await startOidcProvider()
    const browser = await launchBrowser()
    try {
      const home = await tempDir()
      const { clientId: service, secret } = op.clients.secretPost
      const script = fillIn(recipe('oidc-provider'), {
        'https://id.example.com/realms/dev': op.issuer,
        'my-cli': op.clients.public.clientId,
        'my-service': service,
      })
      op.clearLog()
      const shell = startShell(home, script, { SECRET: secret }, { stdin: 'ignore' })
      // No display here, so login prints the provider's sign-in URL; a person opens it.
      const signInUrl = await lineMatching(shell.stderr, /^http:\/\/127\.0\.0\.1:\d+\/oidc\/auth\?/)
      await browser.page.goto(signInUrl)
      const pages = await completeProviderPages(browser.page, op, { user: op.user })
      const result = await shell
      assert.equal(result.exitCode, 0, String(result.stderr))
      assert.deepEqual(pages, ['login', 'consent'])

      const [userToken = '', appToken = '', ...rest] = String(result.stdout).split('\n')
      assert.deepEqual(rest, [''])
      assert.equal(
        userToken,
        await cachedAccessToken(home, op.clients.public.clientId),
        'token answered from the cache',
      )
      assert.equal(decodeJwt(userToken).sub, op.user.sub)
      assert.equal(decodeJwt(userToken).aud, demoResource)
      assert.equal(decodeJwt(appToken).client_id, service)
      assert.equal(decodeJwt(appToken).aud, demoResource)
      const grants = op.tokenRequests().map((r) => r.form?.['grant_type'])
      assert.deepEqual(grants, ['authorization_code', 'client_credentials'])
      assert.equal(op.tokenRequests()[1]?.form?.['client_secret'], secret)
      assert.deepEqual(op.serverErrors, [])
    } finally {
      await browser.close()
      await op.close()
    }
  })

  /** What another tool signed in with, as the public client: its access token or refresh token. */
  async function signedInElsewhere(sts: Sts, scope: string) {
    const home = await tempDir()
    const login = await run(
      home,
      [
        'login',
        ...sts.cliArgs(sts.defaults.publicClientId),
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        scope,
        '-o',
        'raw',
      ],
      { input: sts.defaults.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    const [refreshToken] = Object.values((await readTokenCache(home))?.RefreshToken ?? {})
    return { accessToken: login.stdout.trim(), refreshToken: String(refreshToken?.['secret']) }
  }

  test('web apps: auth-url, the redirect URL pasted, redeem with the certificate, on-behalf-of, --region auto, migrate-rt', async () => {
    const sts = await startSts()
    const browser = new Agent({ connect: { ca: sts.caPem } })
    try {
      const home = await tempDir()
      const cert = makeClientCertificate(home, 'web')
      await writeFile(join(home, 'app.pem'), cert.keyPem + cert.certPem, { mode: 0o600 })
      sts.addClient({
        clientId: webAppId,
        certificatePem: cert.certPem,
        redirectUris: [webRedirect],
      })
      const caller = await signedInElsewhere(sts, `api://${webAppId}/access_as_user`)
      await writeFile(join(home, 'incoming.jwt'), caller.accessToken)
      const { refreshToken: oldRt } = await signedInElsewhere(sts, graphRead)
      await writeFile(join(home, 'old-rt.txt'), oldRt)

      const script = fillIn(recipe('web-apps'), {
        '<web app id>': webAppId,
        '<tenant id>': sts.tenantId,
        '<app id>': sts.defaults.publicClientId,
      })
      sts.clearLog()
      const port = new URL(sts.url).port
      const shell = startShell(
        home,
        script,
        {
          // The public cloud, moved to loopback by a name its regional hosts can be under.
          AZURE_AUTHORITY_HOST: `https://localhost:${port}`,
          NODE_EXTRA_CA_CERTS: sts.caFile,
          // As Azure Functions and App Service set it.
          REGION_NAME: 'westus2',
        },
        { stdin: 'pipe' },
      )
      // The person opens the printed URL, signs in, and pastes the address the browser landed on.
      const authUrl = await lineMatching(shell.stdout, /^https:\/\/\S+\/oauth2\/v2\.0\/authorize\?/)
      const page = await request(authUrl, { dispatcher: browser })
      await page.body.dump()
      assert.equal(page.statusCode, 302)
      const landed = String(page.headers['location'])
      assert.ok(landed.startsWith(`${webRedirect}?code=`), landed)
      assert.ok(shell.stdin, 'the script reads what the person types')
      shell.stdin.end(`${landed}\n`)
      const result = await shell
      assert.equal(result.exitCode, 0, String(result.stderr))
      assert.equal((await stat(join(home, 'flow.json'))).mode & 0o777, 0o600)

      const [url, redeemed = '', onBehalf = '', regional = '', ...account] = String(
        result.stdout,
      ).split('\n')
      assert.equal(url, authUrl)
      for (const token of [redeemed, onBehalf, regional]) {
        assert.equal(decodeJwt(token).aud, graph)
      }
      assert.equal(decodeJwt(redeemed).appid, webAppId)
      assert.equal(decodeJwt(onBehalf).preferred_username, sts.defaults.username)
      assert.equal(decodeJwt(regional).appid, webAppId)
      const migrated = JSON.parse(account.join('\n')) as Record<string, unknown>
      assert.equal(migrated['username'], sts.defaults.username)

      const flow = JSON.parse(await readFile(join(home, 'flow.json'), 'utf8')) as Record<
        string,
        unknown
      >
      const requests = sts.tokenRequests()
      const forms = requests.map((r) => r.form ?? {})
      assert.deepEqual(
        forms.map((form) => [form['grant_type'], form['client_id']]),
        [
          ['authorization_code', webAppId],
          ['urn:ietf:params:oauth:grant-type:jwt-bearer', webAppId],
          ['client_credentials', webAppId],
          ['refresh_token', sts.defaults.publicClientId],
        ],
      )
      assert.equal(forms[0]?.['code_verifier'], flow['code_verifier'])
      assert.equal(forms[0]?.['redirect_uri'], webRedirect)
      for (const certified of requests.slice(0, 3)) {
        assert.equal(certified.assertion?.valid, true, certified.assertion?.failure)
      }
      assert.equal(forms[1]?.['assertion'], caller.accessToken)
      assert.equal(forms[1]?.['requested_token_use'], 'on_behalf_of')
      assert.equal(requests[2]?.headers['host'], `westus2.localhost:${port}`)
      assert.equal(forms[3]?.['refresh_token'], oldRt)
    } finally {
      await browser.close()
      await sts.close()
    }
  })
})
