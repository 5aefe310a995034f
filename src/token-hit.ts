/**
 * The small bundle that `msal-ts token` loads first: it answers a cached token before the rest of
 * the CLI is even read from disk, so that Node does not spend a cache hit parsing code it never runs.
 */
export { answerAndRemember } from './commands/token-memo/record.js'
export { processIo } from './commands/shared/io.js'
