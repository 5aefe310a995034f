import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { OAuthServerError, RuntimeFailure, UsageError } from '../../src/core/kernel/errors.js'
import {
  type EndpointRequest,
  type EndpointToken,
  type IdentityEndpoint,
  startIdentityEndpoint,
} from '../../src/core/loopback/identity-endpoint.js'
import { ask } from '../cli/serve-process.js'

/** An endpoint whose tokens come from `acquire`, closed when the test ends. */
async function withEndpoint(
  t: { after: (fn: () => Promise<void>) => void },
  options: Partial<Parameters<typeof startIdentityEndpoint>[0]> & {
    acquire: (resource: string) => Promise<EndpointToken>
  },
): Promise<IdentityEndpoint> {
  const endpoint = await startIdentityEndpoint({ clientId: () => 'client-1', ...options })
  t.after(() => endpoint.close())
  return endpoint
}

const token = (name: string, expiresOn: number): EndpointToken => ({
  access_token: name,
  token_type: 'Bearer',
  expires_on: expiresOn,
})

test('requests for one resource that arrive together share one acquisition', async (t) => {
  const calls: string[] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const endpoint = await withEndpoint(t, {
    acquire: async (resource) => {
      calls.push(resource)
      await gate
      return token(`token for ${resource}`, Date.now() / 1000 + 3600)
    },
  })
  const answers = Promise.all(Array.from({ length: 10 }, () => ask(endpoint)))
  while (calls.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  release()
  assert.deepEqual(
    (await answers).map((a) => a.status),
    Array.from({ length: 10 }, () => 200),
  )
  assert.deepEqual(calls, ['https://vault.azure.net'])
})

test('a token is answered from memory until it has less than five minutes left', async (t) => {
  let now = 1_000_000
  let issued = 0
  const endpoint = await withEndpoint(t, {
    now: () => now,
    acquire: () => Promise.resolve(token(`token ${(issued += 1)}`, now + 3600)),
  })
  const read = async () => (JSON.parse((await ask(endpoint)).body) as EndpointToken).access_token
  assert.equal(await read(), 'token 1')
  now += 3600 - 301
  assert.equal(await read(), 'token 1')
  now += 2
  assert.equal(await read(), 'token 2')
})

test('the answer has the App Service fields; expires_on is a string of whole seconds', async (t) => {
  const endpoint = await withEndpoint(t, {
    acquire: () => Promise.resolve(token('abc', 1_900_000_000.7)),
  })
  const answer = await ask(endpoint, { resource: 'api://x/' })
  assert.deepEqual(JSON.parse(answer.body), {
    access_token: 'abc',
    expires_on: '1900000000',
    resource: 'api://x/',
    token_type: 'Bearer',
    client_id: 'client-1',
  })
  assert.equal(answer.headers['cache-control'], 'no-store')
})

test('--allow-resource matching ignores trailing slashes and case', async (t) => {
  const endpoint = await withEndpoint(t, {
    allowResources: ['https://Vault.Azure.net/'],
    acquire: () => Promise.resolve(token('abc', Date.now() / 1000 + 3600)),
  })
  assert.equal((await ask(endpoint, { resource: 'https://vault.azure.net' })).status, 200)
  assert.equal((await ask(endpoint, { resource: 'https://vault.azure.net.evil' })).status, 403)
})

test('a resource with leading or trailing whitespace is a 400 and nothing is acquired', async (t) => {
  const asked: string[] = []
  const endpoint = await withEndpoint(t, {
    allowResources: ['https://vault.azure.net'],
    acquire: (resource) => {
      asked.push(resource)
      return Promise.resolve(token('abc', Date.now() / 1000 + 3600))
    },
  })
  for (const resource of [
    ' https://vault.azure.net',
    'https://vault.azure.net\t',
    '\u00a0api://x',
  ]) {
    const answer = await ask(endpoint, { resource })
    assert.equal(answer.status, 400, JSON.stringify(resource))
  }
  assert.deepEqual(asked, [])
})

test('failures: the provider refused is 400, unreachable 502, anything else 500 without details', async (t) => {
  const failures: Error[] = [
    new OAuthServerError(400, { error: 'invalid_scope', error_description: 'no such scope' }),
    new RuntimeFailure('timeout', 'the identity provider did not answer'),
    new UsageError('reserved_scope', 'reserved'),
    new Error('a bug with a secret-looking eyJabc.def.ghi in it'),
  ]
  const seen: EndpointRequest[] = []
  const endpoint = await withEndpoint(t, {
    acquire: () => Promise.reject(failures.shift() ?? new Error('no more failures')),
    onRequest: (request) => seen.push(request),
  })
  const answers = []
  for (let i = 0; i < 4; i++) {
    answers.push(await ask(endpoint, { resource: `api://r${i}` }))
  }
  assert.deepEqual(
    answers.map((a) => [a.status, (JSON.parse(a.body) as Record<string, string>)['error']]),
    [
      [400, 'invalid_scope'],
      [502, 'timeout'],
      [400, 'reserved_scope'],
      [500, 'internal_error'],
    ],
  )
  assert.ok(!answers[3]?.body.includes('eyJ'))
  assert.deepEqual(
    seen.map((r) => [r.status, r.resource, r.error !== undefined]),
    [
      [400, 'api://r0', true],
      [502, 'api://r1', true],
      [400, 'api://r2', true],
      [500, 'api://r3', true],
    ],
  )
})

test('a port in use is a runtime failure; a port out of range a usage error', async (t) => {
  const first = await withEndpoint(t, { acquire: () => Promise.reject(new Error('unused')) })
  await assert.rejects(
    startIdentityEndpoint({
      port: first.port,
      clientId: () => '',
      acquire: () => Promise.reject(new Error('unused')),
    }),
    { code: 'port_unavailable' },
  )
  await assert.rejects(
    startIdentityEndpoint({
      port: 70_000,
      clientId: () => '',
      acquire: () => Promise.reject(new Error('unused')),
    }),
    { code: 'invalid_port' },
  )
})

test('a request target no URL parser takes is a 400, and the endpoint serves on', async (t) => {
  const endpoint = await withEndpoint(t, {
    acquire: () => Promise.resolve(token('abc', Date.now() / 1000 + 3600)),
  })
  const answer = await new Promise<string>((done) => {
    let text = ''
    const socket = connect(endpoint.port, '127.0.0.1', () =>
      socket.write('GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    )
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => done(text))
  })
  assert.match(answer, /^HTTP\/1\.1 400 /)
  assert.equal((await ask(endpoint)).status, 200)
})
