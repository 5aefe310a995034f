// Applications of the built package (as a JavaScript caller reaches it) for the tests of what is
// refused or accepted before any request: one that reaches the network fails the test.
import { ConfidentialClientApplication, PublicClientApplication, type HttpClient } from 'msal-ts'

export const authority = 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47'

export const noNetwork: HttpClient = {
  request: (req) => Promise.reject(new Error(`unexpected request to ${req.url}`)),
}

/** Options as an untyped caller may pass them. */
export type Options = Record<string, unknown>

const base = { clientId: 'cid', authority, httpClient: noNetwork, env: {} }

export const cca = (extra: Options = {}) =>
  new ConfidentialClientApplication({ ...base, clientCredential: 'secret', ...extra })

export const pca = (extra: Options = {}) => new PublicClientApplication({ ...base, ...extra })
