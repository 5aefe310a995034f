import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Agent, request } from 'undici'
import { PublicClientApplication } from '../../src/core/clients/public-client.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'

let sts: Sts
before(async () => {
  sts = await startSts()
})
after(() => sts.close())

test("app name and version go out as x-app-name and x-app-ver; ROPC is MSAL's API id 301", async () => {
  const app = new PublicClientApplication({
    clientId: sts.defaults.publicClientId,
    authority: sts.authority(),
    verify: sts.caFile,
    appName: 'contoso-tool',
    appVersion: '1.2.3',
  })
  try {
    await app.acquireTokenByUsernamePassword(sts.defaults.username, sts.defaults.password, [
      'User.Read',
    ])
  } finally {
    await app.close()
  }
  const [request] = sts.tokenRequests()
  assert.equal(request?.headers['x-app-name'], 'contoso-tool')
  assert.equal(request?.headers['x-app-ver'], '1.2.3')
  assert.equal(request?.headers['x-client-current-telemetry'], '4|301,0|')
})

test("a bare code goes out with MSAL's API id 832, a device code poll with 622", async () => {
  const app = new PublicClientApplication({
    clientId: sts.defaults.publicClientId,
    authority: sts.authority(),
    verify: sts.caFile,
  })
  sts.clearLog()
  try {
    await assert.rejects(
      app.acquireTokenByAuthorizationCode('not-a-code', ['User.Read'], {
        redirectUri: 'http://localhost:4321',
      }),
    )
    const now = Math.floor(Date.now() / 1000)
    await assert.rejects(
      app.acquireTokenByDeviceFlow({
        device_code: 'not-a-device-code',
        user_code: 'X',
        verification_uri: 'https://example.test/device',
        message: '',
        interval: 1,
        expires_in: 60,
        expires_at: now + 60,
        scope: ['User.Read'],
      }),
    )
  } finally {
    await app.close()
  }
  const [code, device] = sts.tokenRequests()
  assert.equal(code?.form?.['grant_type'], 'authorization_code')
  assert.equal(code?.form?.['code'], 'not-a-code')
  assert.equal(code?.form?.['redirect_uri'], 'http://localhost:4321')
  assert.equal(code?.headers['x-client-current-telemetry'], '4|832,0|')
  assert.equal(device?.form?.['device_code'], 'not-a-device-code')
  assert.match(device?.headers['x-client-current-telemetry'] ?? '', /^4\|622,0\|/)
})

test("an interactive sign-in redeems its code with MSAL's API id 169", async () => {
  const app = new PublicClientApplication({
    clientId: sts.defaults.publicClientId,
    authority: sts.authority(),
    verify: sts.caFile,
  })
  const browser = new Agent({ connect: { ca: sts.caPem } })
  // The browser: the STS signs the hinted user in at once and redirects to the loopback listener.
  const openBrowser = async (url: string) => {
    const signIn = await request(url, { dispatcher: browser })
    await signIn.body.dump()
    const landed = await request(String(signIn.headers['location']))
    await landed.body.dump()
  }
  sts.clearLog()
  try {
    const result = await app.acquireTokenInteractive(['User.Read'], {
      loginHint: sts.defaults.username,
      openBrowser,
    })
    assert.equal(result.account?.username, sts.defaults.username)
  } finally {
    await Promise.all([app.close(), browser.close()])
  }
  const [code, ...more] = sts.tokenRequests()
  assert.deepEqual(more, [])
  assert.equal(code?.form?.['grant_type'], 'authorization_code')
  assert.equal(code?.headers['x-client-current-telemetry'], '4|169,0|')
})
