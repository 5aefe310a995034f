import assert from 'node:assert/strict'
import { test } from 'node:test'
import { commandFrom } from '../../src/commands/shared/command-from-table.js'

// A command built from its declarations lists its own options in their order, then the shared
// ones under their heading, then its examples; it parses the values the declarations describe.

const declaration = {
  name: 'demo',
  description: 'a demo command',
  arguments: [{ name: '<operation>', description: 'what to do' }],
  options: [
    { flags: '--zeta <z>', description: 'listed first' },
    { flags: '--alpha <a>', description: 'listed second', repeatable: true },
  ],
  requests: 'none',
  examples: '\nExamples:\n  msal-ts demo get',
} as const

test('help lists the own options in order, the shared ones after, then the examples', () => {
  const help = helpOf(commandFrom(declaration))
  const at = (text: string) => help.indexOf(text)
  assert.match(help, /Usage: demo \[options\] <operation>/)
  assert.match(help, /operation +what to do/)
  assert.ok(at('--zeta') < at('--alpha'), help)
  assert.ok(at('--alpha') < at('Shared options:'), help)
  assert.ok(at('Shared options:') < at('--client-id'), help)
  assert.ok(at('--help') < at('Examples:'), help)
  // A command that asks the provider nothing lists no proxy option.
  assert.equal(at('--proxy'), -1)
})

test('the options parse as declared, repeatable ones into a list', async () => {
  const seen: unknown[] = []
  const command = commandFrom(declaration).action(
    (operation: string, flags: { alpha: string[]; zeta?: string }) => {
      seen.push(operation, flags.alpha, flags.zeta)
    },
  )
  await command.parseAsync(['get', '--alpha', 'a', '--alpha', 'b', '--zeta', 'z'], { from: 'user' })
  assert.deepEqual(seen, ['get', ['a', 'b'], 'z'])
})

function helpOf(command: ReturnType<typeof commandFrom>): string {
  let help = ''
  command.configureOutput({ writeOut: (text) => (help += text) })
  command.outputHelp()
  return help
}
