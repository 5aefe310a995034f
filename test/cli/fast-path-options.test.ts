/**
 * The cached-token fast path has a small argv parser of its own: it must take exactly the options
 * the `token` command declares (those a cache hit honours) and hand every other one to the full
 * CLI, so the two cannot drift apart.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fastPathOptions, parseTokenArgs } from '../../src/commands/token-from-cache.js'
import { run, tempDir } from './harness.js'

/** The option names `msal-ts token --help` lists, with whether each takes a value. */
async function tokenHelpOptions(): Promise<Map<string, boolean>> {
  const help = await run(await tempDir(), ['token', '--help'])
  assert.equal(help.exitCode, 0)
  const names = new Map<string, boolean>()
  for (const [, terms] of help.stdout.matchAll(/^ {2}(-[^ ].*?)(?: {2,}|$)/gm)) {
    const takesValue = /</.test(terms ?? '')
    for (const name of (terms ?? '').match(/--?[\w-]+/g) ?? []) {
      names.set(name, takesValue)
    }
  }
  return names
}

const namesOf = (flags: string) => flags.match(/(?<![\w-])--?[\w-]+/g) ?? []

test('every option the fast path parses is one `token` declares, taking a value exactly when it does', async () => {
  const declared = await tokenHelpOptions()
  for (const { flags } of fastPathOptions) {
    for (const name of namesOf(flags)) {
      assert.equal(declared.get(name), flags.includes('<'), `${name} (${flags})`)
    }
  }
})

test('every `token` option the fast path does not parse is handed to the full CLI', async () => {
  const parsed = new Set(fastPathOptions.flatMap(({ flags }) => namesOf(flags)))
  const declared = await tokenHelpOptions()
  const handedOver = [...declared].filter(([name]) => !parsed.has(name))
  assert.ok(handedOver.some(([name]) => name === '--force-refresh'))
  for (const [name, takesValue] of handedOver) {
    const args = [name, ...(takesValue ? ['x'] : []), '--scope', 'User.Read']
    assert.equal(parseTokenArgs(args), undefined, name)
  }
  for (const [name, takesValue] of declared) {
    if (parsed.has(name)) {
      const args = [name, ...(takesValue ? ['1'] : []), '--scope', 'User.Read']
      assert.notEqual(parseTokenArgs(args), undefined, name)
    }
  }
})

test('an option `token` does not take (--region) is handed over, to be refused there', () => {
  assert.equal(parseTokenArgs(['--region', 'westus', '--scope', 'User.Read']), undefined)
})

test('only whole option names are options; a repeated setting keeps its last value, a repeatable one all', () => {
  for (const odd of ['-c  --client-id', '-c,', '<id>', '--client-id <id>', 'client-id', '-']) {
    assert.equal(parseTokenArgs([odd, 'x', '--scope', 'User.Read']), undefined, odd)
  }
  const parsed = parseTokenArgs(['-c', 'a', '--client-id=b', '--scope', 'A', '--scope=B'])
  assert.equal(parsed?.flags.clientId, 'b')
  assert.deepEqual(parsed?.scope, ['A', 'B'])
})
