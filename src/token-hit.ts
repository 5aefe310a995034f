/**
 * The small bundle that `msal-ts token` loads first: it answers a cached token before the rest of
 * the CLI is even read from disk, so that Node does not spend a cache hit parsing code it never runs.
 */
export { tokenFromCache } from './commands/token-from-cache.js'
export { processIo } from './commands/shared/io.js'
