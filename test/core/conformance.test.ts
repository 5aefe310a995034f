import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'

const root = resolve(import.meta.dirname, '../..')
const table = readFileSync(resolve(root, 'docs/conformance.md'), 'utf8')
const seed = readFileSync(resolve(root, 'test/fixtures/seed/client-application.txt'), 'utf8')

interface Row {
  seed: string
  library: string
  cli: string
  test: string
  note: string
}

/** The body rows of every table: the seed cell and the test cell (cells split on unescaped pipes). */
function rows(markdown: string): Row[] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| `') || line.startsWith('| ('))
    .map((line) => {
      const cells = line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim())
      assert.equal(cells.length, 5, `five cells in: ${line}`)
      return {
        seed: cells[0] ?? '',
        library: cells[1] ?? '',
        cli: cells[2] ?? '',
        test: cells[3] ?? '',
        note: cells[4] ?? '',
      }
    })
}

/** `acquire_token_silent(auth_scheme=)` and `PublicClientApplication.x` name `acquire_token_silent` and `x`. */
function seedName(cell: string): string {
  return (/`([\w.]+)/.exec(cell)?.[1] ?? '').split('.').at(-1) ?? ''
}

function seedNames(text: string): string[] {
  const lines = text.split('\n').filter((line) => !line.startsWith('#'))
  const constructor = lines.find((line) => line.startsWith('ClientApplication(')) ?? ''
  const parameters = [...constructor.matchAll(/[(,]\s*(\w+)/g)].map((m) => m[1] ?? '')
  const methods = lines.flatMap((line) => /^([a-z_]+)\(/.exec(line)?.[1] ?? [])
  const attributes = lines.flatMap((line) => /^([A-Z_]+) = /.exec(line)?.[1] ?? [])
  return [...parameters, ...methods, ...attributes]
}

test('every test the conformance table names exists with that title', () => {
  const named = rows(table).filter((row) => row.test !== '—')
  assert.ok(named.length > 40, `${named.length} rows name a test`)
  for (const row of named) {
    const match = /^`([^`]+)` › (.+)$/.exec(row.test)
    assert.ok(match, `${row.seed}: the test cell is \`file\` › title: ${row.test}`)
    const [, file = '', title = ''] = match
    const path = resolve(root, file)
    assert.ok(existsSync(path), `${row.seed}: ${file} exists`)
    assert.ok(readFileSync(path, 'utf8').includes(title), `${row.seed}: ${file} has "${title}"`)
  }
})

test("every constructor parameter, method and attribute of the seed's ClientApplication has a row", () => {
  const names = seedNames(seed)
  assert.equal(names.length, 20 + 11 + 11, 'parameters, methods and attributes of the seed page')
  const covered = new Set(rows(table).map((row) => seedName(row.seed)))
  assert.deepEqual(
    names.filter((name) => !covered.has(name)),
    [],
  )
})

test('a row names a test unless the seed name has no counterpart in msal-ts', () => {
  const untested = rows(table).filter((row) => row.test === '—')
  assert.deepEqual(
    untested.filter((row) => !row.note.startsWith('no counterpart')).map((row) => row.seed),
    [],
  )
})

/** `method(keyword=)` for every parameter with a default of every seed method (not **kwargs). */
function seedKeywords(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => /^[a-z_]+\(/.test(line))
    .flatMap((line) => {
      const method = /^([a-z_]+)\(/.exec(line)?.[1] ?? ''
      return [...line.matchAll(/(\w+)=/g)].map((m) => `${method}(${m[1] ?? ''}=)`)
    })
}

/** The source of a named test: from its title to the next test or describe. */
function testBody(cell: string): string {
  const [, file = '', title = ''] = /^`([^`]+)` › (.+)$/.exec(cell) ?? []
  const text = readFileSync(resolve(root, file), 'utf8')
  const start = text.indexOf(title)
  const rest = text.slice(start + title.length)
  const end = rest.search(/\n\s*(test|describe)\(/)
  return end === -1 ? rest : rest.slice(0, end)
}

test('every keyword parameter of every seed method has a row', () => {
  const keywords = seedKeywords(seed)
  assert.ok(keywords.length >= 30, `${keywords.length} keyword parameters in the seed`)
  const seeds = new Set(rows(table).map((row) => /`([^`]+)`/.exec(row.seed)?.[1] ?? ''))
  assert.deepEqual(
    keywords.filter((keyword) => !seeds.has(keyword)),
    [],
  )
})

test("a keyword row's test passes that parameter: its library name or its CLI option", () => {
  const keywordRows = rows(table).filter((row) => /^`\w+\(\w+=\)`$/.test(row.seed))
  for (const row of keywordRows.filter((r) => r.test !== '—')) {
    const keyword = /\((\w+)=\)/.exec(row.seed)?.[1] ?? ''
    const camel = keyword.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())
    const options = row.cli.match(/--[\w-]+/g) ?? []
    const body = testBody(row.test)
    assert.ok(
      [camel, ...options].some((name) => body.includes(name)),
      `${row.seed}: ${row.test} passes neither ${camel} nor ${options.join(', ')}`,
    )
  }
})
