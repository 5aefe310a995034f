/**
 * The smallest bundle, loaded before anything else by `msal-ts token`: it answers again what a
 * cache hit answered before, when nothing that answer depended on has changed.
 */
export { answerFromMemo } from './commands/token-memo/replay.js'
export { processIo } from './commands/shared/io.js'
