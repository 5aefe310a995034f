/**
 * acquire_token_silent and remove_account at engine level (behavior.md §2, §10), against a fake
 * identity provider that answers refresh-token grants by the refresh token it is given.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Account } from '../../src/core/clients/application.js'
import { OAuthServerError, RuntimeFailure } from '../../src/core/kernel/errors.js'
import type { HttpClient, HttpRequest, HttpResponse } from '../../src/core/http/types.js'
import { memoryStore, type JsonStore } from '../../src/core/kernel/json-store.js'
import { PublicClientApplication } from '../../src/core/clients/public-client.js'
import {
  accessTokenKey,
  accountKey,
  appMetadataKey,
  idTokenKey,
  refreshTokenKey,
} from '../../src/core/token-cache/keys.js'
import type {
  AccessTokenEntry,
  AccountEntry,
  AppMetadataEntry,
  IdTokenEntry,
  RefreshTokenEntry,
} from '../../src/core/token-cache/schema.js'

const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const env = 'login.microsoftonline.com'
const uid = '11111111-aaaa-4bbb-8ccc-000000000001'
const home = `${uid}.${tenant}`
const otherHome = `22222222-aaaa-4bbb-8ccc-000000000002.${tenant}`
const now = 1_700_000_000
const appA = 'aaaaaaaa-0000-4000-8000-00000000000a'
const appB = 'bbbbbbbb-0000-4000-8000-00000000000b'
const appC = 'cccccccc-0000-4000-8000-00000000000c'

/** How the fake provider answers one refresh token. */
type RtAnswer =
  | { ok: true; foci?: boolean }
  | { error: string; additional?: string[]; status?: number }
  | { throws: true }

function fakeIdp(answers: Record<string, RtAnswer>) {
  const posts: HttpRequest[] = []
  let issued = 0
  const http: HttpClient = {
    request(req) {
      const url = new URL(req.url)
      if (req.method === 'GET' && url.pathname.endsWith('/openid-configuration')) {
        const t = url.pathname.split('/')[1]
        return json(200, {
          token_endpoint: `https://${url.host}/${t}/oauth2/v2.0/token`,
          authorization_endpoint: `https://${url.host}/${t}/oauth2/v2.0/authorize`,
        })
      }
      posts.push(req)
      const rt = req.form?.['refresh_token'] ?? ''
      const answer = answers[rt] ?? { error: 'invalid_grant' }
      if ('throws' in answer) {
        return Promise.reject(new RuntimeFailure('network_error', 'connection reset'))
      }
      if ('error' in answer) {
        return json(answer.status ?? 400, {
          error: answer.error,
          error_description: `AADSTS70000: ${answer.error} for ${rt}`,
          error_codes: [70000],
          ...(answer.additional ? { error_additional_info: answer.additional } : {}),
        })
      }
      issued += 1
      return json(200, {
        token_type: 'Bearer',
        scope: req.form?.['scope'],
        expires_in: 3600,
        ext_expires_in: 3600,
        access_token: `at-${issued}-from-${rt}`,
        refresh_token: `${rt}+${issued}`,
        client_info: Buffer.from(JSON.stringify({ uid, utid: tenant })).toString('base64url'),
        ...(answer.foci ? { foci: '1' } : {}),
      })
    },
  }
  return { http, posts, usedRts: () => posts.map((p) => p.form?.['refresh_token']) }
}

function json(status: number, body: unknown): Promise<HttpResponse> {
  return Promise.resolve({
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

/** Builds a cache document with real MSAL keys. */
class Doc {
  AccessToken: Record<string, AccessTokenEntry> = {}
  RefreshToken: Record<string, RefreshTokenEntry> = {}
  IdToken: Record<string, IdTokenEntry> = {}
  Account: Record<string, AccountEntry> = {}
  AppMetadata: Record<string, AppMetadataEntry> = {}

  rt(clientId: string, secret: string, extra: Partial<RefreshTokenEntry> = {}): this {
    const rt: RefreshTokenEntry = {
      credential_type: 'RefreshToken',
      secret,
      home_account_id: home,
      environment: env,
      client_id: clientId,
      target: 'User.Read offline_access openid profile',
      last_modification_time: String(now - 1000),
      ...extra,
    }
    this.RefreshToken[refreshTokenKey(rt)] = rt
    return this
  }

  at(clientId: string, secret: string, extra: Partial<AccessTokenEntry> = {}): this {
    const at: AccessTokenEntry = {
      credential_type: 'AccessToken',
      secret,
      home_account_id: home,
      environment: env,
      client_id: clientId,
      realm: tenant,
      target: 'User.Read offline_access openid profile',
      token_type: 'Bearer',
      cached_at: String(now - 100),
      expires_on: String(now + 3000),
      extended_expires_on: String(now + 3000),
      ...extra,
    }
    this.AccessToken[accessTokenKey(at)] = at
    return this
  }

  idt(clientId: string, extra: Partial<IdTokenEntry> = {}): this {
    const idt: IdTokenEntry = {
      credential_type: 'IdToken',
      secret: `id-token-of-${clientId}`,
      home_account_id: home,
      environment: env,
      client_id: clientId,
      realm: tenant,
      ...extra,
    }
    this.IdToken[idTokenKey(idt)] = idt
    return this
  }

  account(extra: Partial<AccountEntry> = {}): this {
    const account: AccountEntry = {
      home_account_id: home,
      environment: env,
      realm: tenant,
      local_account_id: uid,
      username: 'alice@contoso.com',
      authority_type: 'MSSTS',
      ...extra,
    }
    this.Account[accountKey(account)] = account
    return this
  }

  meta(clientId: string, familyId?: string): this {
    const meta: AppMetadataEntry = {
      client_id: clientId,
      environment: env,
      ...(familyId ? { family_id: familyId } : {}),
    }
    this.AppMetadata[appMetadataKey(meta)] = meta
    return this
  }
}

async function setup(clientId: string, doc: Doc, answers: Record<string, RtAnswer> = {}) {
  const idp = fakeIdp(answers)
  const store: JsonStore = memoryStore()
  await store.write(JSON.parse(JSON.stringify(doc)) as Record<string, unknown>)
  const app = new PublicClientApplication({
    clientId,
    authority: `https://${env}/${tenant}`,
    httpClient: idp.http,
    cacheStore: store,
    clock: () => now,
  })
  const saved = async () => (await store.read()) as unknown as Doc
  return { app, idp, saved }
}

const alice: Account = {
  home_account_id: home,
  environment: env,
  username: 'alice@contoso.com',
  authority_type: 'MSSTS',
  local_account_id: uid,
  realm: tenant,
}
const scopes = ['User.Read']

const rtsBy = (doc: Doc) =>
  Object.values(doc.RefreshToken)
    .map((rt) => `${rt.client_id}:${rt.secret}`)
    .sort()

describe('family refresh tokens (FOCI)', () => {
  test("an app new to the environment redeems the family's refresh token, which is updated in place", async () => {
    const doc = new Doc().account().meta(appA, '1').rt(appA, 'rt-a', { family_id: '1' })
    const { app, idp, saved } = await setup(appB, doc, { 'rt-a': { ok: true, foci: true } })
    const result = await app.acquireTokenSilentWithError(scopes, alice)
    assert.equal(result?.access_token, 'at-1-from-rt-a')
    assert.equal(result?.token_source, 'identity_provider')
    assert.deepEqual(idp.usedRts(), ['rt-a'])
    const post = idp.posts[0]
    assert.equal(post?.form?.['client_id'], appB, 'redeemed by this app')
    assert.equal(post?.form?.['grant_type'], 'refresh_token')
    assert.equal(post?.form?.['scope'], 'User.Read offline_access openid profile')
    assert.equal(post?.headers?.['x-anchormailbox'], `Oid:${uid}@${tenant}`)
    assert.equal(post?.headers?.['x-client-current-telemetry'], '4|84,2|')

    const after = await saved()
    // The new secret goes into the other app's entry; no RT appears under this app's id.
    assert.deepEqual(rtsBy(after), [`${appA}:rt-a+1`])
    assert.equal(Object.values(after.RefreshToken)[0]?.family_id, '1')
    assert.deepEqual(
      Object.values(after.AppMetadata)
        .map((m) => `${m.client_id}:${m.family_id ?? ''}`)
        .sort(),
      [`${appA}:1`, `${appB}:1`],
      'the app joins the family',
    )
    assert.deepEqual(
      Object.values(after.AccessToken).map((at) => [at.client_id, at.secret]),
      [[appB, 'at-1-from-rt-a']],
    )
    assert.deepEqual(after.Account, doc.Account, 'silent refresh never writes the account')
  })

  test('a family member tries the family first and its own refresh token last', async () => {
    // Its own RT is the newest, yet it comes last.
    const doc = new Doc()
      .account()
      .meta(appA, '1')
      .meta(appB, '1')
      .rt(appA, 'rt-a', { family_id: '1', last_modification_time: String(now - 500) })
      .rt(appC, 'rt-c', { family_id: '1', last_modification_time: String(now - 100) })
      .rt(appB, 'rt-b', { family_id: '1', last_modification_time: String(now - 10) })
    const { app, idp, saved } = await setup(appB, doc, {
      'rt-a': { error: 'invalid_grant' },
      'rt-c': { error: 'invalid_grant' },
      'rt-b': { ok: true, foci: true },
    })
    const result = await app.acquireTokenSilentWithError(scopes, alice)
    assert.equal(result?.access_token, 'at-1-from-rt-b')
    assert.deepEqual(idp.usedRts(), ['rt-c', 'rt-a', 'rt-b'], 'newest family RT first, own last')
    assert.deepEqual(rtsBy(await saved()), [`${appA}:rt-a`, `${appB}:rt-b+1`, `${appC}:rt-c`])
  })

  test('a family RT that works is used before the own one', async () => {
    const doc = new Doc()
      .account()
      .meta(appB, '1')
      .rt(appA, 'rt-a', { family_id: '1' })
      .rt(appB, 'rt-b', { family_id: '1' })
    const { app, idp } = await setup(appB, doc, {
      'rt-a': { ok: true, foci: true },
      'rt-b': { ok: true, foci: true },
    })
    await app.acquireTokenSilentWithError(scopes, alice)
    assert.deepEqual(idp.usedRts(), ['rt-a'])
  })

  test('an app outside the family (known, without family_id) uses only its own refresh token', async () => {
    const doc = new Doc()
      .account()
      .meta(appB)
      .rt(appA, 'rt-a', { family_id: '1', last_modification_time: String(now) })
      .rt(appB, 'rt-b')
    const { app, idp } = await setup(appB, doc, { 'rt-a': { ok: true }, 'rt-b': { ok: true } })
    const result = await app.acquireTokenSilentWithError(scopes, alice)
    assert.equal(result?.access_token, 'at-1-from-rt-b')
    assert.deepEqual(idp.usedRts(), ['rt-b'])
  })

  test('an unknown app stops at client_mismatch and, with no RT of its own, gets a cache miss', async () => {
    const doc = new Doc()
      .account()
      .rt(appA, 'rt-a', { family_id: '1', last_modification_time: String(now - 10) })
      .rt(appC, 'rt-c', { family_id: '1', last_modification_time: String(now - 20) })
    const { app, idp, saved } = await setup(appB, doc, {
      'rt-a': { error: 'invalid_grant', additional: ['client_mismatch'] },
      'rt-c': { ok: true },
    })
    assert.equal(await app.acquireTokenSilentWithError(scopes, alice), undefined)
    assert.equal(await app.acquireTokenSilent(scopes, alice), undefined)
    assert.deepEqual(idp.usedRts(), ['rt-a', 'rt-a'], 'the loop breaks at client_mismatch')
    assert.deepEqual(rtsBy(await saved()), [`${appA}:rt-a`, `${appC}:rt-c`], 'nothing removed')
  })

  test("an unknown app's failed family attempt is discarded; its own RT's answer is what counts", async () => {
    const doc = new Doc().account().rt(appA, 'rt-a', { family_id: '1' }).rt(appB, 'rt-b')
    const { app, idp } = await setup(appB, doc, {
      'rt-a': { error: 'invalid_grant' },
      'rt-b': { error: 'interaction_required' },
    })
    await assert.rejects(app.acquireTokenSilentWithError(scopes, alice), (error: unknown) => {
      assert.ok(error instanceof OAuthServerError)
      assert.equal(error.code, 'interaction_required')
      assert.equal(error.kind, 'interaction_required')
      return true
    })
    assert.deepEqual(idp.usedRts(), ['rt-a', 'rt-b'])
  })
})

describe('refresh failures', () => {
  test('invalid_grant never deletes a refresh token, own or family', async () => {
    const doc = new Doc()
      .account()
      .meta(appB, '1')
      .rt(appA, 'rt-a', { family_id: '1' })
      .rt(appB, 'rt-b', { family_id: '1' })
      .at(appB, 'old-at', { expires_on: String(now + 100) })
    const { app, idp, saved } = await setup(appB, doc, {
      'rt-a': { error: 'invalid_grant' },
      'rt-b': { error: 'invalid_grant' },
    })
    await assert.rejects(app.acquireTokenSilentWithError(scopes, alice), (error: unknown) => {
      assert.ok(error instanceof OAuthServerError)
      assert.equal(error.code, 'invalid_grant')
      assert.equal(error.kind, 'interaction_required', 'a person has to sign in: exit 3')
      assert.match(error.message, /rt-b/, "the own RT's error is the one reported")
      return true
    })
    assert.equal(await app.acquireTokenSilent(scopes, alice), undefined)
    assert.equal(idp.posts.length, 4)
    const after = await saved()
    assert.deepEqual(after.RefreshToken, doc.RefreshToken)
    assert.equal(idp.posts[0]?.headers?.['x-client-current-telemetry'], '4|84,3|')
  })

  test('no refresh token at all: undefined, with no request', async () => {
    const doc = new Doc().account().meta(appB)
    const { app, idp } = await setup(appB, doc)
    assert.equal(await app.acquireTokenSilentWithError(scopes, alice), undefined)
    assert.equal(idp.posts.length, 0)
  })

  test('an aging token (refresh_on passed) is refreshed when possible', async () => {
    const doc = new Doc()
      .account()
      .meta(appB)
      .rt(appB, 'rt-b')
      .at(appB, 'aging-at', { refresh_on: String(now - 1) })
    const { app, idp } = await setup(appB, doc, { 'rt-b': { ok: true } })
    const result = await app.acquireTokenSilentWithError(scopes, alice)
    assert.equal(result?.access_token, 'at-1-from-rt-b')
    assert.equal(idp.posts[0]?.headers?.['x-client-current-telemetry'], '4|84,4|')
  })

  for (const [why, answer] of [
    ['invalid_grant', { error: 'invalid_grant' }],
    ['a 500', { error: 'server_error', status: 500 }],
    ['a network failure', { throws: true }],
  ] as const) {
    test(`an aging token is returned when the refresh fails with ${why}`, async () => {
      const doc = new Doc()
        .account()
        .meta(appB)
        .rt(appB, 'rt-b')
        .at(appB, 'aging-at', { refresh_on: String(now - 1) })
      const { app, idp, saved } = await setup(appB, doc, { 'rt-b': answer })
      const result = await app.acquireTokenSilentWithError(scopes, alice)
      assert.equal(result?.access_token, 'aging-at')
      assert.equal(result?.token_source, 'cache')
      assert.equal(result?.expires_in, 3000)
      assert.equal(result?.refresh_on, now - 1)
      assert.ok(idp.posts.length >= 1)
      assert.deepEqual((await saved()).RefreshToken, doc.RefreshToken)
    })
  }

  test('an aging token is returned when there is no refresh token to try', async () => {
    const doc = new Doc()
      .account()
      .meta(appB)
      .at(appB, 'aging-at', { refresh_on: String(now - 1) })
    const { app, idp } = await setup(appB, doc)
    const result = await app.acquireTokenSilentWithError(scopes, alice)
    assert.equal(result?.access_token, 'aging-at')
    assert.equal(result?.token_source, 'cache')
    assert.equal(idp.posts.length, 0)
  })

  test('a token within five minutes of expiry is not served, and not returned if the refresh fails', async () => {
    const doc = new Doc()
      .account()
      .meta(appB)
      .rt(appB, 'rt-b')
      .at(appB, 'expiring-at', { expires_on: String(now + 299) })
    const { app, idp } = await setup(appB, doc, { 'rt-b': { error: 'invalid_grant' } })
    await assert.rejects(app.acquireTokenSilentWithError(scopes, alice), OAuthServerError)
    assert.equal(idp.posts.length, 1)
  })
})

describe('removeAccount (remove_account)', () => {
  /** Alice in two apps and two tenants, Bob, and Alice under another host. */
  function crowdedCache(): Doc {
    const doc = new Doc()
      .account()
      .account({ realm: 'other-tenant' })
      .account({ home_account_id: otherHome, username: 'bob@contoso.com' })
      .account({ environment: 'login.windows.net' })
      .meta(appA, '1')
      .meta(appB, '1')
      .meta(appC)
      .rt(appA, 'alice-rt-a', { family_id: '1' })
      .rt(appB, 'alice-rt-b', { family_id: '1' })
      .rt(appC, 'alice-rt-c')
      .rt(appB, 'bob-rt-b', { home_account_id: otherHome })
      .rt(appB, 'alice-rt-b-elsewhere', { environment: 'login.windows.net' })
      .at(appB, 'alice-at-b')
      .at(appC, 'alice-at-c')
      .at(appB, 'alice-at-b-other-tenant', { realm: 'other-tenant' })
      .at(appB, 'bob-at-b', { home_account_id: otherHome })
      .at(appB, 'alice-at-b-elsewhere', { environment: 'login.windows.net' })
      .idt(appB)
      .idt(appC)
      .idt(appB, { home_account_id: otherHome, secret: 'bob-idt' })
    return doc
  }
  const secrets = (entries: Record<string, { secret: string }>) =>
    Object.values(entries)
      .map((e) => e.secret)
      .sort()

  test("a family app removes the account's family and own RTs, every app's ATs and ID tokens, every realm's accounts", async () => {
    const doc = crowdedCache()
    const { app, idp, saved } = await setup(appB, doc)
    await app.removeAccount(alice)
    assert.equal(idp.posts.length, 0)
    const after = await saved()
    // Unlike MSAL, sign-out covers the cloud's aliases: msal-ts reads them, so it must clear them.
    assert.deepEqual(secrets(after.RefreshToken), ['alice-rt-c', 'bob-rt-b'])
    assert.deepEqual(secrets(after.AccessToken), ['bob-at-b'])
    assert.deepEqual(secrets(after.IdToken), ['bob-idt'])
    assert.deepEqual(
      Object.values(after.Account)
        .map((a) => `${a.username}@${a.environment}/${a.realm}`)
        .sort(),
      [`bob@contoso.com@${env}/${tenant}`],
    )
    assert.deepEqual(after.AppMetadata, doc.AppMetadata, 'AppMetadata is kept')
    assert.deepEqual(await app.getAccounts(), [
      {
        home_account_id: otherHome,
        environment: env,
        username: 'bob@contoso.com',
        account_source: null,
        authority_type: 'MSSTS',
        local_account_id: uid,
        realm: tenant,
      },
    ])
  })

  test('an app outside the family removes only its own RTs', async () => {
    const doc = crowdedCache()
    const { app, saved } = await setup(appC, doc)
    await app.removeAccount(alice)
    const after = await saved()
    assert.deepEqual(secrets(after.RefreshToken), [
      'alice-rt-a',
      'alice-rt-b',
      'alice-rt-b-elsewhere',
      'bob-rt-b',
    ])
    assert.deepEqual(secrets(after.AccessToken), ['bob-at-b'])
    assert.deepEqual(secrets(after.IdToken), ['bob-idt'])
  })

  test('sign-out from any alias of the cloud clears the account in all of them', async () => {
    const doc = crowdedCache()
    const { app, saved } = await setup(appB, doc)
    await app.removeAccount({ home_account_id: home, environment: 'login.windows.net' })
    const after = await saved()
    assert.deepEqual(secrets(after.RefreshToken), ['alice-rt-c', 'bob-rt-b'])
    assert.equal(Object.keys(after.Account).length, 1)
  })

  test('getAccounts groups by home account and filters by username in any case', async () => {
    const { app } = await setup(appB, crowdedCache())
    const accounts = await app.getAccounts()
    assert.deepEqual(accounts.map((a) => a.home_account_id).sort(), [home, otherHome].sort())
    assert.deepEqual(
      (await app.getAccounts('ALICE@contoso.COM')).map((a) => a.home_account_id),
      [home],
    )
    assert.deepEqual(await app.getAccounts('carol@contoso.com'), [])
  })
})
