declare const MSAL_TS_VERSION: string | undefined

/** Set by the build from package.json; "dev" when running from source. */
export const version: string = typeof MSAL_TS_VERSION === 'string' ? MSAL_TS_VERSION : 'dev'

/** What msal-ts calls itself on the wire (`x-client-sku`). */
export const clientSku = 'msal-ts'
