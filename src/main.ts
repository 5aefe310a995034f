/** The full CLI bundle's entry: every command, through the command-line framework. */
export { main as run } from './cli.js'
export { processIo } from './commands/shared/io.js'
