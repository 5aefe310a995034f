import assert from 'node:assert/strict'
import { test } from 'node:test'
import { givenOptions } from '../../src/commands/shared/refuse-options.js'

// givenOptions names the declared options a command line gave, as the refusals print them.

const declarations = [
  { flags: '--client-secret <secret>', description: 'a value' },
  { flags: '--send-x5c', description: 'a switch' },
  { flags: '--capability <cap>', description: 'a list', repeatable: true },
  { flags: '--no-cache', description: 'a negation' },
] as const

test('nothing given: absent values, false switches, empty lists, negations left true', () => {
  assert.deepEqual(givenOptions({ sendX5c: false, capability: [], cache: true }, declarations), [])
})

test('given options by their long names, in declaration order', () => {
  assert.deepEqual(
    givenOptions(
      { cache: false, capability: ['CP1'], sendX5c: true, clientSecret: '', other: 'x' },
      declarations,
    ),
    ['--client-secret', '--send-x5c', '--capability', '--no-cache'],
  )
})
