import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'
import type { PublicClientApplication } from '../../src/core/clients/public-client.js'
import { OAuthServerError } from '../../src/core/kernel/errors.js'
import type { Account, AuthenticationResult } from '../../src/core/protocol/result.js'
import { main } from '../../src/cli.js'
import type { AppFactory } from '../../src/commands/shared/deps.js'
import type { Io } from '../../src/commands/shared/io.js'
import type { Prompter } from '../../src/commands/shared/prompter.js'

// Commands (token, logout, client-token --managed-identity) run in this process, on fake apps
// and a scripted prompter: what they print, their exit code and what they asked of the app, with
// no provider and no cache.

function account(username: string): Account {
  return {
    home_account_id: `${username}-oid.tenant`,
    environment: 'login.microsoftonline.com',
    username,
    authority_type: 'MSSTS',
    local_account_id: `${username}-oid`,
    realm: 'tenant',
  }
}

const alice = account('alice@contoso.com')
const bob = account('bob@contoso.com')

function tokenFor(who: Account): AuthenticationResult {
  return {
    access_token: `at-for-${who.username}`,
    token_type: 'Bearer',
    expires_in: 3600,
    expires_on: 2_000_000_000,
    scope: ['api://x/read'],
    token_source: 'cache',
    account: who,
  }
}

/** What the fake application was asked, in order. */
type Call = [method: string, ...args: unknown[]]

interface FakeApp {
  accounts: Account[]
  silent?: (account: Account) => Promise<AuthenticationResult | undefined>
}

function fakeApps(fake: FakeApp): { apps: AppFactory; calls: Call[] } {
  const calls: Call[] = []
  const app = {
    clientId: 'app-id',
    getAccounts: () => Promise.resolve(fake.accounts),
    acquireTokenSilentWithError: (scopes: string[], who: Account, options: object) => {
      calls.push(['acquireTokenSilentWithError', scopes, who.username, options])
      return fake.silent ? fake.silent(who) : Promise.resolve(tokenFor(who))
    },
    removeAccount: (who: Account) =>
      Promise.resolve(void calls.push(['removeAccount', who.username])),
    close: () => Promise.resolve(void calls.push(['close'])),
  }
  const apps: AppFactory = {
    publicApp: (_flags, options) => {
      calls.push(['publicApp', options ?? {}])
      return Promise.resolve(app as unknown as PublicClientApplication)
    },
    withWebApp: () => Promise.reject(new Error('not used here')),
    confidentialApp: () => Promise.reject(new Error('not used here')),
    managedIdentityApp: (settings, id) => {
      calls.push(['managedIdentityApp', settings.clientId, id])
      return Promise.resolve({
        acquireTokenForClient: (resource: string) => {
          calls.push(['acquireTokenForClient', resource])
          return Promise.resolve({ ...tokenFor(alice), access_token: `mi-token-for-${resource}` })
        },
        close: () => Promise.resolve(void calls.push(['close'])),
      })
    },
  }
  return { apps, calls }
}

/** A prompter that answers from a script and records each question. */
function scriptedPrompter(answers: { terminal: boolean; confirm?: boolean; pick?: number }) {
  const asked: string[] = []
  const prompter: Prompter = {
    canPrompt: () => answers.terminal,
    select: (message, choices) => {
      asked.push(message)
      const choice = choices[answers.pick ?? 0]
      assert.ok(choice, 'the script picks a listed choice')
      return Promise.resolve(choice.value)
    },
    confirm: (message) => {
      asked.push(message)
      return Promise.resolve(answers.confirm ?? false)
    },
    password: () => Promise.reject(new Error('no password is asked for')),
  }
  return { prompter, asked }
}

async function memoryIo(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = []
  const stderr = new PassThrough()
  const err: string[] = []
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()))
  const io: Io = {
    stdin: new PassThrough(),
    stdout: { write: (text: string) => out.push(text) },
    stderr,
    env: { MSAL_TS_CONFIG_DIR: await mkdtemp(join(tmpdir(), 'msal-ts-commands-')), ...env },
  }
  return { io, stdout: () => out.join(''), stderr: () => err.join('') }
}

test('token prints the silent token of the only account, and closes the app', async () => {
  const { apps, calls } = fakeApps({ accounts: [alice] })
  const { prompter, asked } = scriptedPrompter({ terminal: false })
  const { io, stdout, stderr } = await memoryIo()
  const code = await main(['token', '--scope', 'api://x/read'], io, { apps, prompter })
  assert.equal(code, 0, stderr())
  assert.equal(stdout(), 'at-for-alice@contoso.com\n')
  assert.deepEqual(calls, [
    ['publicApp', {}],
    ['acquireTokenSilentWithError', ['api://x/read'], 'alice@contoso.com', {}],
    ['close'],
  ])
  assert.deepEqual(asked, [])
})

test('token asks which account on a terminal, and gets that one its token', async () => {
  const { apps, calls } = fakeApps({ accounts: [alice, bob] })
  const { prompter, asked } = scriptedPrompter({ terminal: true, pick: 1 })
  const { io, stdout } = await memoryIo()
  const code = await main(['token', '--scope', 'api://x/read', '-o', 'header'], io, {
    apps,
    prompter,
  })
  assert.equal(code, 0)
  assert.deepEqual(asked, ['Which account?'])
  assert.equal(stdout(), 'Authorization: Bearer at-for-bob@contoso.com\n')
  assert.equal(calls[1]?.[2], 'bob@contoso.com')
})

test('token with several accounts and no terminal is a usage error naming them', async () => {
  const { apps } = fakeApps({ accounts: [alice, bob] })
  const { prompter } = scriptedPrompter({ terminal: false })
  const { io, stdout, stderr } = await memoryIo()
  const code = await main(['token', '--scope', 'api://x/read'], io, { apps, prompter })
  assert.equal(code, 2)
  assert.equal(stdout(), '')
  assert.match(stderr(), /^msal-ts: several_accounts: .*alice@contoso\.com, bob@contoso\.com/)
})

test('token that cannot be had silently exits 3 and prints no token', async () => {
  const { apps, calls } = fakeApps({ accounts: [alice], silent: () => Promise.resolve(undefined) })
  const { prompter } = scriptedPrompter({ terminal: false })
  const { io, stdout, stderr } = await memoryIo({ MSAL_TS_ACCOUNT: 'ALICE@contoso.com' })
  const code = await main(['token', '--scope', 'api://x/read'], io, { apps, prompter })
  assert.equal(code, 3)
  assert.equal(stdout(), '')
  assert.equal(
    stderr(),
    'msal-ts: no_token: no token for alice@contoso.com can be had silently; run msal-ts login\n',
  )
  assert.deepEqual(calls.at(-1), ['close'])
})

test('a refused refresh token exits 3 and says to sign in again', async () => {
  const refused = new OAuthServerError(400, {
    error: 'invalid_grant',
    error_description: 'AADSTS70043: The refresh token has expired',
  })
  const { apps } = fakeApps({ accounts: [alice], silent: () => Promise.reject(refused) })
  const { prompter } = scriptedPrompter({ terminal: false })
  const { io, stdout, stderr } = await memoryIo()
  const code = await main(['token', '--scope', 'api://x/read'], io, { apps, prompter })
  assert.equal(code, 3)
  assert.equal(stdout(), '')
  assert.match(
    stderr(),
    /^msal-ts: invalid_grant: AADSTS70043: The refresh token has expired\. Run msal-ts login to sign in again\.\n/,
  )
})

test('logout asks on a terminal and signs out only after a yes', async () => {
  for (const yes of [false, true]) {
    const { apps, calls } = fakeApps({ accounts: [alice, bob] })
    const { prompter, asked } = scriptedPrompter({ terminal: true, confirm: yes })
    const { io, stdout, stderr } = await memoryIo()
    const code = await main(['logout', '--account', 'bob@contoso.com'], io, { apps, prompter })
    assert.deepEqual(asked, ['Sign out bob@contoso.com?'])
    assert.equal(stdout(), '')
    if (yes) {
      assert.equal(code, 0)
      assert.equal(stderr(), 'Signed out bob@contoso.com\n')
      assert.deepEqual(calls, [
        ['publicApp', { cacheOnly: true }],
        ['removeAccount', 'bob@contoso.com'],
      ])
    } else {
      assert.equal(code, 1)
      assert.equal(stderr(), 'msal-ts: declined: not signed out: nothing removed\n')
      assert.ok(!calls.some(([method]) => method === 'removeAccount'))
    }
  }
})

test('logout --all --yes asks nothing and signs out everyone', async () => {
  const { apps, calls } = fakeApps({ accounts: [alice, bob] })
  const { prompter, asked } = scriptedPrompter({ terminal: true })
  const { io, stderr } = await memoryIo()
  const code = await main(['logout', '--all', '--yes'], io, { apps, prompter })
  assert.equal(code, 0)
  assert.deepEqual(asked, [])
  assert.deepEqual(
    calls.filter(([method]) => method === 'removeAccount'),
    [
      ['removeAccount', 'alice@contoso.com'],
      ['removeAccount', 'bob@contoso.com'],
    ],
  )
  assert.equal(stderr(), 'Signed out alice@contoso.com, bob@contoso.com\n')
})

test('logout of someone not signed in is nothing to do, like rm -f', async () => {
  const { apps, calls } = fakeApps({ accounts: [alice] })
  const { prompter, asked } = scriptedPrompter({ terminal: true, confirm: true })
  const { io, stderr } = await memoryIo()
  const code = await main(['logout', '--account', 'carol@contoso.com'], io, { apps, prompter })
  assert.equal(code, 0)
  assert.deepEqual(asked, [])
  assert.equal(stderr(), 'carol@contoso.com is not signed in; nothing to do.\n')
  assert.ok(!calls.some(([method]) => method === 'removeAccount'))
})

test('client-token --managed-identity asks the identity the flags select for one resource', async () => {
  const { apps, calls } = fakeApps({ accounts: [] })
  const { prompter } = scriptedPrompter({ terminal: false })
  const { io, stdout, stderr } = await memoryIo({ AZURE_CLIENT_ID: 'not-an-identity' })
  const args = ['client-token', '--managed-identity', '--object-id', ' oid-1 ']
  const code = await main([...args, '--scope', 'https://vault.azure.net/.default'], io, {
    apps,
    prompter,
  })
  assert.equal(code, 0, stderr())
  assert.equal(stdout(), 'mi-token-for-https://vault.azure.net\n')
  assert.deepEqual(calls, [
    ['managedIdentityApp', 'oid-1', { objectId: 'oid-1' }],
    ['acquireTokenForClient', 'https://vault.azure.net'],
    ['close'],
  ])

  const two = await memoryIo()
  const refused = await main([...args, '--scope', 'a/.default', '--scope', 'b/.default'], two.io, {
    apps,
    prompter,
  })
  assert.equal(refused, 2)
  assert.match(
    two.stderr(),
    /^msal-ts: missing_scope: a managed identity token is for one resource/,
  )
  assert.equal(calls.length, 3, 'no client is made for a usage error')
})
