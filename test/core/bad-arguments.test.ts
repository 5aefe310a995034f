/**
 * The library's public entry points refuse bad arguments with a typed UsageError (stable `code`,
 * one line) before anything reaches the network, never with a TypeError from deep inside.
 */
import { test } from 'node:test'
import { ConfidentialClientApplication } from '../../src/core/clients/confidential-client.js'
import { UsageError } from '../../src/core/kernel/errors.js'
import type { HttpClient } from '../../src/core/http/types.js'
import { memoryStore } from '../../src/core/kernel/json-store.js'
import { PublicClientApplication } from '../../src/core/clients/public-client.js'
import type { Account } from '../../src/core/protocol/result.js'
import { assertUsageError } from './usage-error.js'

const authority = 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47'

/** Any request is a failure of the test: bad arguments must be refused before the network. */
const noNetwork: HttpClient = {
  request: (req) => Promise.reject(new Error(`unexpected request to ${req.url}`)),
}

const base = { clientId: 'app-id', authority, httpClient: noNetwork, cacheStore: memoryStore() }
const pca = () => new PublicClientApplication(base)
const cca = () => new ConfidentialClientApplication({ ...base, clientCredential: 'secret' })
const account: Account = {
  home_account_id: 'uid.utid',
  environment: 'login.microsoftonline.com',
  realm: 'utid',
  local_account_id: 'uid',
  username: 'a@b.c',
  authority_type: 'MSSTS',
}
// What a JavaScript caller without types may pass.
const notAList = 'User.Read' as unknown as string[]

const calls: [string, () => unknown][] = [
  ['a public client without a client id', () => new PublicClientApplication({ clientId: ' ' })],
  [
    'an authority that is not a URL',
    () => new PublicClientApplication({ ...base, authority: 'nope' }),
  ],
  [
    'an http authority on a public host',
    () => new PublicClientApplication({ ...base, authority: 'http://login.example.com/t' }),
  ],
  [
    'a confidential client without a credential',
    () =>
      new ConfidentialClientApplication({
        ...base,
        clientCredential: undefined as unknown as string,
      }),
  ],
  ['client credentials without a scope', () => cca().acquireTokenForClient([])],
  [
    'client credentials with a string for the scope list',
    () => cca().acquireTokenForClient(notAList),
  ],
  [
    'client credentials with a number in the scope list',
    () => cca().acquireTokenForClient([5 as unknown as string]),
  ],
  ['on-behalf-of without an assertion', () => cca().acquireTokenOnBehalfOf('', ['User.Read'])],
  [
    'a password grant with a reserved scope',
    () => pca().acquireTokenByUsernamePassword('a@b.c', 'pw', ['openid']),
  ],
  [
    'a password grant with a string for the scope list',
    () => pca().acquireTokenByUsernamePassword('a@b.c', 'pw', notAList),
  ],
  [
    'a refresh token grant with a string for the scope list',
    () => pca().acquireTokenByRefreshToken('rt', notAList),
  ],
  [
    'an authorization code that is empty',
    () => pca().acquireTokenByAuthorizationCode('', ['User.Read']),
  ],
  [
    'an authorization code with a relative redirect URI',
    () =>
      pca().acquireTokenByAuthorizationCode('code', ['User.Read'], { redirectUri: '/callback' }),
  ],
  [
    'an authorization URL with a redirect URI that is not a URL',
    () => pca().getAuthorizationRequestUrl(['User.Read'], { redirectUri: 'not a url' }),
  ],
  [
    'an auth code flow with a redirect URI that is not a URL',
    () => pca().initiateAuthCodeFlow(['User.Read'], { redirectUri: 'not a url' }),
  ],
  [
    'silent acquisition with a string for the scope list',
    () => pca().acquireTokenSilentWithError(notAList, account),
  ],
]

for (const [name, call] of calls) {
  void test(`${name}: a UsageError, before any request`, () => assertUsageError(UsageError, call))
}
