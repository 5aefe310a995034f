/**
 * The README's recipes, run as written: public hosts and placeholders become the loopback STS, a
 * loopback "API" that records the Authorization header it gets, and GitHub's OIDC token service.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { decodeJwt, importPKCS8, SignJWT } from 'jose'
import { Agent, request } from 'undici'
import { startCiRuntime, type CiRuntime } from '../fixtures/ci-runtime.js'
import { startManagedIdentityEndpoints } from '../fixtures/managed-identity.js'
import { flatHeaders, sendJson, serveOnLoopback } from '../fixtures/loopback-server.js'
import { makeClientCertificate, type ClientCertificate } from '../fixtures/pki.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { bin, cliEnv, run, tempDir } from './harness.js'
import { readTokenCache } from './login-process.js'
import { fillIn, lineMatching, recipe, runShell, startShell } from './readme.js'

const repo = resolve(import.meta.dirname, '../..')
const userRead = 'https://graph.microsoft.com/User.Read'
const aksServer = '6dae42f8-4368-4678-94ff-3960e28e3630/.default'
const federatedClientId = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b'
const appClientId = '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f'

interface ApiCall {
  path: string
  authorization: string
}

/** A stand-in for Graph or ARM: answers any GET with a small JSON body and keeps what it was sent. */
async function startApi() {
  const calls: ApiCall[] = []
  const { server, url } = await serveOnLoopback((req, res) => {
    calls.push({
      path: req.url ?? '',
      authorization: flatHeaders(req.headers)['authorization'] ?? '',
    })
    sendJson(res, 200, { value: [{ displayName: 'Contoso' }] })
    return Promise.resolve()
  })
  return {
    url,
    calls,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

// Just enough YAML for the recipes' blocks: a key's lines are those indented deeper than it.
const indent = (line: string) => line.length - line.trimStart().length

function linesUnder(lines: readonly string[], key: RegExp): string[] {
  const at = lines.findIndex((line) => key.test(line))
  assert.ok(at >= 0, `no line matching ${String(key)}`)
  const own = indent(lines[at] ?? '')
  const end = lines.findIndex((line, i) => i > at && line.trim() !== '' && indent(line) <= own)
  return lines.slice(at + 1, end < 0 ? undefined : end)
}

function scalars(lines: readonly string[]): Record<string, string> {
  const top = Math.min(...lines.filter((line) => line.trim() !== '').map(indent))
  const found: Record<string, string> = {}
  for (const line of lines.filter((l) => indent(l) === top)) {
    const [, key, value] = /^\s*([\w-]+): (.+)$/.exec(line) ?? []
    if (key !== undefined && value !== undefined) {
      found[key] = value
    }
  }
  return found
}

const listItems = (lines: readonly string[]) =>
  lines.map((line) => /^\s*- (.+)$/.exec(line)?.[1]).filter((item) => item !== undefined)

const dedent = (lines: readonly string[]) => {
  const top = Math.min(...lines.filter((line) => line.trim() !== '').map(indent))
  return lines.map((line) => line.slice(top)).join('\n')
}

describe('README recipes', () => {
  let sts: Sts
  let api: Awaited<ReturnType<typeof startApi>>
  let runtime: CiRuntime
  let federatedCert: ClientCertificate

  before(async () => {
    sts = await startSts()
    api = await startApi()
    const cert = makeClientCertificate(await tempDir(), 'github')
    federatedCert = cert
    sts.addClient({ clientId: federatedClientId, certificatePem: cert.certPem })
    runtime = await startCiRuntime({
      clientId: federatedClientId,
      tokenEndpoint: `${sts.url}/${sts.tenantId}/oauth2/v2.0/token`,
      certificate: cert,
    })
  })
  after(async () => {
    await runtime.close()
    await api.close()
    await sts.close()
  })

  /** A client assertion for `clientId`, signed with its certificate's key. */
  const signAssertion = async (cert: ClientCertificate, clientId: string) =>
    new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({
        alg: 'RS256',
        x5t: Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64url'),
      })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${sts.url}/${sts.tenantId}/oauth2/v2.0/token`)
      .setExpirationTime('10m')
      .sign(await importPKCS8(cert.keyPem, 'RS256'))

  /** The swaps of the recipes that export MSAL_TS_CLIENT_ID and MSAL_TS_AUTHORITY for a user. */
  const userSwaps = {
    text: () => ({
      '<app id>': sts.defaults.publicClientId,
      'https://login.microsoftonline.com/<tenant>': sts.authority(),
    }),
    env: () => ({
      MSAL_TS_CLIENT_ID: sts.defaults.publicClientId,
      MSAL_TS_AUTHORITY: sts.authority(),
      NODE_EXTRA_CA_CERTS: sts.caFile,
    }),
  }

  const signIn = async (home: string, scope: string) => {
    const result = await run(
      home,
      ['login', '--username', sts.defaults.username, '--password-stdin', '--scope', scope],
      { input: sts.defaults.password, env: userSwaps.env() },
    )
    assert.equal(result.exitCode, 0, result.stderr)
  }

  const cachedAccessToken = async (home: string) => {
    const [token] = Object.values((await readTokenCache(home))?.AccessToken ?? {})
    assert.ok(typeof token?.['secret'] === 'string', 'an access token in the cache')
    return token['secret']
  }

  test('install: npm pack, npm install -g the tarball, as the README and the GitHub Actions step do', async () => {
    const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      version: string
    }
    const cache = (await execa('npm', ['config', 'get', 'cache'])).stdout.trim()
    const home = await tempDir()
    // The npm cache `npm ci` filled, so the dependencies come from it; the global prefix is the test's.
    const npmEnv = { npm_config_cache: cache, NPM_CONFIG_PREFIX: join(home, 'global') }
    const offline = '--prefer-offline --no-audit --no-fund'
    const installed = await runShell(
      home,
      fillIn(recipe('install'), {
        // --ignore-scripts: `prepare` would rebuild dist/ under the other tests; this runs after a build.
        'npm pack ': `npm pack --ignore-scripts --silent ${repo} `,
        'npm install -g': `npm install -g ${offline}`,
        'msal-ts --version': '"$NPM_CONFIG_PREFIX/bin/msal-ts" --version',
      }),
      npmEnv,
    )
    assert.equal(installed.exitCode, 0, installed.stderr)
    assert.match(installed.stdout, new RegExp(`^${version.replaceAll('.', '\\.')}$`, 'm'))

    const step = recipe('github-actions')
      .split('\n')
      .map((line) => /^\s*- run: (npm install .*?)(?: #.*)?$/.exec(line)?.[1])
      .find((command) => command !== undefined)
    assert.ok(step, 'the workflow installs msal-ts')
    const checkout = await tempDir()
    await mkdir(join(checkout, 'tools'))
    await execa('cp', [join(home, `msal-ts-${version}.tgz`), join(checkout, 'tools')])
    const ci = await runShell(
      checkout,
      `${step.replace('npm install -g', `npm install -g ${offline}`)}\n"$NPM_CONFIG_PREFIX/bin/msal-ts" --version`,
      { npm_config_cache: cache, NPM_CONFIG_PREFIX: join(checkout, 'global') },
    )
    assert.equal(ci.exitCode, 0, ci.stderr)
    assert.equal(ci.stdout.trim().split('\n').at(-1), version)
  })

  test('people: password login, token as JSON and as env, accounts, logout', async () => {
    const home = await tempDir()
    sts.clearLog()
    const result = await runShell(
      home,
      fillIn(recipe('people'), { 'bob@contoso.com': sts.defaults.username }),
      { ...userSwaps.env(), PW: sts.defaults.password },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    const json = /^\{[\s\S]*?^\}$/m.exec(result.stdout)?.[0] ?? assert.fail(result.stdout)
    const token = JSON.parse(json) as Record<string, unknown>
    assert.equal(decodeJwt(String(token['access_token'])).aud, 'https://management.azure.com')
    assert.ok(result.stdout.includes(sts.defaults.username), 'accounts lists the user')
    assert.deepEqual((await readTokenCache(home))?.Account ?? {}, {}, 'logout removed the account')
  })

  test('client-token: a secret, a secret on stdin, a certificate piped to curl, an assertion file', async () => {
    const home = await tempDir()
    const cert = makeClientCertificate(home, 'app')
    await writeFile(join(home, 'app.pem'), cert.keyPem + cert.certPem, { mode: 0o600 })
    sts.addClient({
      clientId: appClientId,
      secret: sts.defaults.clientSecret,
      certificatePem: cert.certPem,
    })
    const assertion = await signAssertion(cert, appClientId)
    const assertionFile = join(home, 'federated-token')
    await writeFile(assertionFile, assertion)
    const script = fillIn(recipe('client-token'), {
      '<app id>': appClientId,
      '<tenant id>': sts.tenantId,
      'AZURE_CLIENT_SECRET=...': `AZURE_CLIENT_SECRET='${sts.defaults.clientSecret}'`,
      'https://graph.microsoft.com/v1.0/': `${api.url}/v1.0/`,
    })
    sts.clearLog()
    api.calls.splice(0)
    const result = await runShell(home, script, {
      AZURE_AUTHORITY_HOST: sts.url,
      SECRET: sts.defaults.clientSecret,
      AZURE_FEDERATED_TOKEN_FILE: assertionFile,
      NODE_EXTRA_CA_CERTS: sts.caFile,
    })
    assert.equal(result.exitCode, 0, result.stderr)
    // curl prints the API's body without a newline, so the last token follows it on its line.
    const body = JSON.stringify({ value: [{ displayName: 'Contoso' }] })
    const [fromSecret, , afterCurl = ''] = result.stdout.split('\n')
    assert.ok(afterCurl.startsWith(body), result.stdout)
    const fromAssertion = afterCurl.slice(body.length)
    assert.equal(decodeJwt(fromSecret ?? '').aud, 'https://graph.microsoft.com')
    assert.deepEqual(api.calls, [
      { path: '/v1.0/organization', authorization: `Bearer ${fromSecret}` },
    ])
    assert.equal(decodeJwt(fromAssertion).aud, 'api://my-api')
    const forms = sts.tokenRequests().map((request) => request.form ?? {})
    assert.equal(forms[0]?.['client_secret'], sts.defaults.clientSecret)
    assert.equal(forms.at(-1)?.['client_assertion'], assertion)
  })

  test('profiles: config set in the default and a named profile, token --profile, config list', async () => {
    const home = await tempDir()
    const usGovArm = 'https://management.usgovcloudapi.net'
    await signIn(home, `${usGovArm}/.default`)
    const script = fillIn(recipe('profiles'), {
      '<app id>': sts.defaults.publicClientId,
      'tenant contoso.onmicrosoft.com': `tenant ${sts.tenantId}`,
      // The sovereign cloud, moved to loopback: the profile names the STS's host as its cloud.
      'cloud usgov': `cloud ${sts.url}`,
    })
    sts.clearLog()
    const result = await runShell(home, script, { NODE_EXTRA_CA_CERTS: sts.caFile })
    assert.equal(result.exitCode, 0, result.stderr)
    const [token = '', ...listed] = result.stdout.split('\n')
    assert.equal(token, await cachedAccessToken(home))
    assert.equal(decodeJwt(token).aud, usGovArm)
    assert.deepEqual(sts.tokenRequests(), [], 'the signed-in token, from the cache')
    const list = listed.join('\n')
    for (const value of [sts.defaults.publicClientId, sts.tenantId, sts.url]) {
      assert.ok(list.includes(value), `config list shows ${value}:\n${list}`)
    }
  })

  test('completions: each line, run by the shell it is for, installs what `msal-ts completion` prints', async () => {
    const home = await tempDir()
    const [bash = '', zsh = '', fish = ''] = recipe('completions').trim().split('\n')
    const loaded = await runShell(home, `${bash}\ncomplete -p msal-ts`)
    assert.equal(loaded.exitCode, 0, loaded.stderr)
    assert.match(loaded.stdout, /^complete .* msal-ts$/m)

    // What ~/.zshrc and a first fish run would have made: a directory first in fpath, fish's own.
    await mkdir(join(home, 'zfunc'))
    await mkdir(join(home, '.config/fish/completions'), { recursive: true })
    const inZsh = await runShell(home, 'zsh -f -c "fpath=(~/zfunc $fpath); $LINE"', { LINE: zsh })
    assert.equal(inZsh.exitCode, 0, inZsh.stderr)
    const inFish = await runShell(home, 'fish --no-config -c "$LINE"', { LINE: fish })
    assert.equal(inFish.exitCode, 0, inFish.stderr)
    for (const [shell, file] of [
      ['zsh', join(home, 'zfunc/_msal-ts')],
      ['fish', join(home, '.config/fish/completions/msal-ts.fish')],
    ] as const) {
      const printed = await runShell(home, `msal-ts completion ${shell}`)
      assert.equal(await readFile(file, 'utf8'), printed.stdout, `${file} is the ${shell} script`)
    }
  })

  test("serve: the README's block is docs/serve.md's dev-process recipe, which serve.test.ts runs", () => {
    assert.equal(recipe('serve'), recipe('dev-process', { doc: 'docs/serve.md' }))
  })

  test('with your own app: login, signed in where it prints the URL, then token from the cache', async () => {
    const home = await tempDir()
    const script = fillIn(recipe('own-app'), userSwaps.text())
    const shell = startShell(home, script, { NODE_EXTRA_CA_CERTS: sts.caFile }, { stdin: 'ignore' })
    // No display here, so login prints the sign-in URL; the person's browser is an HTTPS client.
    const signInUrl = await lineMatching(
      shell.stderr,
      /^https:\/\/\S+\/oauth2\/v2\.0\/authorize\?\S+$/,
    )
    const browser = new Agent({ connect: { ca: sts.caPem } })
    const page = await request(signInUrl, { dispatcher: browser })
    await page.body.dump()
    assert.equal(page.statusCode, 302)
    const back = await request(String(page.headers['location']))
    await back.body.dump()
    await browser.close()
    const result = await shell
    assert.equal(result.exitCode, 0, String(result.stderr))
    assert.equal(String(result.stdout).trim(), await cachedAccessToken(home))
  })

  test('secretless CI: GitHub and Azure Pipelines federation, a token file, managed identity', async () => {
    const home = await tempDir()
    const tokenFile = join(home, 'azure-identity-token')
    await writeFile(tokenFile, await signAssertion(federatedCert, federatedClientId))
    const mi = await startManagedIdentityEndpoints()
    const script = fillIn(recipe('secretless-ci'), {
      '<app id>': federatedClientId,
      '<tenant>': sts.tenantId,
    })
    runtime.clear()
    sts.clearLog()
    const result = await runShell(home, script, {
      ...runtime.githubEnv(),
      ...runtime.pipelinesEnv('readme-connection'),
      ...mi.appServiceEnv(),
      // Kubernetes workload identity's variables, and the public cloud moved to loopback.
      AZURE_CLIENT_ID: federatedClientId,
      AZURE_TENANT_ID: sts.tenantId,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: sts.url,
      NODE_EXTRA_CA_CERTS: sts.caFile,
    })
    await mi.close()
    assert.equal(result.exitCode, 0, result.stderr)
    const tokens = result.stdout.trim().split('\n')
    assert.deepEqual(
      tokens.slice(0, 3).map((token) => decodeJwt(token).aud),
      ['https://management.azure.com', 'https://vault.azure.net', 'api://my-api'],
    )
    assert.deepEqual(
      tokens.slice(3),
      mi.issued,
      "the managed identity's token, from App Service's endpoint",
    )
    assert.equal(mi.requests[0]?.query['resource'], 'https://vault.azure.net')
    assert.deepEqual(
      sts.tokenRequests().map((request) => request.form?.['client_assertion']),
      [...runtime.issued, await readFile(tokenFile, 'utf8')],
    )
  })

  test('curl with -o header: the API gets the cached token, and no token request is made', async () => {
    const home = await tempDir()
    await signIn(home, userRead)
    const script = fillIn(recipe('curl'), {
      ...userSwaps.text(),
      'https://graph.microsoft.com/v1.0/': `${api.url}/v1.0/`,
    })
    sts.clearLog()
    api.calls.splice(0)
    const result = await runShell(home, script, { NODE_EXTRA_CA_CERTS: sts.caFile })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.deepEqual(JSON.parse(result.stdout), { value: [{ displayName: 'Contoso' }] })
    assert.deepEqual(api.calls, [
      { path: '/v1.0/me', authorization: `Bearer ${await cachedAccessToken(home)}` },
    ])
    assert.deepEqual(sts.tokenRequests(), [])
  })

  test("a GitHub Actions step: its run script, with the job's env, trades the OIDC token for ARM's", async () => {
    const workflow = recipe('github-actions').split('\n')
    assert.match(workflow.join('\n'), /^ {6}id-token: write/m, 'the job may ask for its OIDC token')
    const step = linesUnder(workflow, /^\s*- name: List the resource groups$/)
    const vars: Record<string, string> = {
      '${{ vars.AZURE_CLIENT_ID }}': federatedClientId,
      '${{ vars.AZURE_TENANT_ID }}': sts.tenantId,
      '${{ vars.AZURE_SUBSCRIPTION_ID }}': '00000000-0000-4000-8000-000000000001',
    }
    const stepEnv = Object.fromEntries(
      Object.entries(scalars(linesUnder(step, /^\s*env:$/))).map(([name, value]) => [
        name,
        vars[value] ?? assert.fail(`${name}: ${value} is not a variable the test sets`),
      ]),
    )
    const script = fillIn(dedent(linesUnder(step, /^\s*run: \|$/)), {
      'https://management.azure.com/subscriptions/': `${api.url}/subscriptions/`,
    })
    runtime.clear()
    sts.clearLog()
    api.calls.splice(0)
    const result = await runShell(await tempDir(), script, {
      ...runtime.githubEnv(),
      ...stepEnv,
      // The public cloud, moved to loopback: AZURE_TENANT_ID names a tenant on it.
      AZURE_AUTHORITY_HOST: sts.url,
      NODE_EXTRA_CA_CERTS: sts.caFile,
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.deepEqual(JSON.parse(result.stdout), { value: [{ displayName: 'Contoso' }] })
    assert.equal(runtime.requests.length, 1)
    const [tokenRequest] = sts.tokenRequests()
    assert.equal(tokenRequest?.form?.['client_id'], federatedClientId)
    assert.equal(tokenRequest?.form?.['scope'], 'https://management.azure.com/.default')
    assert.equal(tokenRequest?.form?.['client_assertion'], runtime.issued[0])
    assert.equal(tokenRequest?.assertion?.valid, true, tokenRequest?.assertion?.failure)
    const [call] = api.calls
    assert.equal(
      call?.path,
      '/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups?api-version=2021-04-01',
    )
    const token = /^Bearer (\S+)$/.exec(call?.authorization ?? '')?.[1] ?? ''
    assert.equal(decodeJwt(token).aud, 'https://management.azure.com')
  })

  test('over SSH: login --device-code, completed on another device, then token from the cache', async () => {
    const home = await tempDir()
    sts.settings.deviceCodeInterval = 1
    sts.settings.devicePollScript = ['authorization_pending', 'success']
    sts.clearLog()
    const result = await runShell(home, fillIn(recipe('ssh-device-code'), userSwaps.text()), {
      NODE_EXTRA_CA_CERTS: sts.caFile,
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(
      result.stderr,
      /^To sign in, use a web browser to open the page https:\/\/127\.0\.0\.1:\d+\/devicelogin and enter the code [A-Z0-9]{9} to authenticate\.\nSigned in as /,
    )
    assert.equal(sts.requests({ path: '/oauth2/v2.0/devicecode' }).length, 1)
    assert.deepEqual(
      sts.tokenRequests().map((poll) => poll.status),
      [400, 200],
      'one pending poll, then the sign-in',
    )
    const out = JSON.parse(result.stdout) as Record<string, unknown>
    assert.equal(out['token_source'], 'cache')
    assert.equal(out['access_token'], await cachedAccessToken(home))
  })

  test('kubeconfig exec plugin: the command kubectl runs prints a v1 ExecCredential with the cached token', async () => {
    const home = await tempDir()
    await signIn(home, aksServer)
    const kubeconfig = fillIn(recipe('kubeconfig'), userSwaps.text()).split('\n')
    const exec = linesUnder(kubeconfig, /^\s*exec:$/)
    const fields = scalars(exec)
    assert.equal(fields['apiVersion'], 'client.authentication.k8s.io/v1')
    assert.equal(fields['command'], 'msal-ts')
    assert.equal(fields['interactiveMode'], 'Never')
    const args = listItems(linesUnder(exec, /^\s*args:$/))

    // What kubectl does: the command from PATH with kubectl's environment plus
    // KUBERNETES_EXEC_INFO, stdin not given, since interactiveMode is Never.
    sts.clearLog()
    const result = await execa(fields['command'], args, {
      env: {
        ...cliEnv(home),
        PATH: `${resolve(bin, '..')}:${process.env['PATH'] ?? ''}`,
        NODE_EXTRA_CA_CERTS: sts.caFile,
        KUBERNETES_EXEC_INFO: JSON.stringify({
          kind: 'ExecCredential',
          apiVersion: fields['apiVersion'],
          spec: { interactive: false },
        }),
      },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    })
    assert.equal(result.exitCode, 0, String(result.stderr))
    const credential = JSON.parse(String(result.stdout)) as {
      kind: string
      apiVersion: string
      status: { token: string; expirationTimestamp: string }
    }
    assert.equal(credential.kind, 'ExecCredential')
    assert.equal(credential.apiVersion, fields['apiVersion'])
    assert.equal(credential.status.token, await cachedAccessToken(home))
    assert.match(credential.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.ok(Date.parse(credential.status.expirationTimestamp) > Date.now())
    assert.equal(decodeJwt(credential.status.token).aud, aksServer.replace('/.default', ''))
    assert.deepEqual(sts.tokenRequests(), [])
  })

  test('as a library: the snippet type-checks against the built package and runs; a second run asks nobody', async () => {
    const project = await tempDir()
    await mkdir(join(project, 'node_modules'))
    await symlink(repo, join(project, 'node_modules', 'msal-ts'))
    await symlink(join(repo, 'node_modules', '@types'), join(project, 'node_modules', '@types'))
    await writeFile(join(project, 'package.json'), JSON.stringify({ type: 'module' }))
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          target: 'es2022',
          noEmit: true,
          types: ['node'],
        },
        files: ['recipe.ts'],
      }),
    )
    await writeFile(
      join(project, 'recipe.ts'),
      fillIn(recipe('library'), {
        'https://login.microsoftonline.com/': `${sts.url}/`,
        'https://graph.microsoft.com/v1.0/': `${api.url}/v1.0/`,
      }),
    )
    const typecheck = await execa(
      process.execPath,
      [join(repo, 'node_modules/typescript/bin/tsc'), '-p', project],
      { reject: false },
    )
    assert.equal(typecheck.exitCode, 0, String(typecheck.stdout))

    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: project,
      AZURE_CLIENT_ID: sts.defaults.confidentialClientId,
      AZURE_TENANT_ID: sts.tenantId,
      AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
      NODE_EXTRA_CA_CERTS: sts.caFile,
    }
    const runRecipe = () =>
      execa(join(repo, 'node_modules/.bin/tsx'), ['recipe.ts'], {
        cwd: project,
        env,
        extendEnv: false,
        reject: false,
      })
    sts.clearLog()
    api.calls.splice(0)
    for (const round of [1, 2]) {
      const result = await runRecipe()
      assert.equal(result.exitCode, 0, `round ${round}: ${String(result.stderr)}`)
      assert.match(String(result.stdout), /displayName: 'Contoso'/)
    }
    assert.equal(sts.tokenRequests().length, 1, 'the second run answers from tokens.json')
    const cacheFile = join(project, 'tokens.json')
    assert.equal((await stat(cacheFile)).mode & 0o777, 0o600)
    const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as {
      AccessToken: Record<string, { secret: string }>
    }
    const [stored] = Object.values(cache.AccessToken)
    assert.deepEqual(
      api.calls.map((call) => call.authorization),
      [`Bearer ${stored?.secret}`, `Bearer ${stored?.secret}`],
    )
  })
})
