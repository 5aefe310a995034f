/**
 * The recipes of the README and of docs/ as tests run them: the fenced block after `<!-- recipe: NAME -->`, its
 * placeholders and public hosts swapped for the loopback fixtures, run by bash with the built
 * `msal-ts` first on PATH. A recipe that changes so a swap no longer applies fails the test.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { execa } from 'execa'
import { bin, cliEnv, type CliResult } from './harness.js'

/** The documents that hold recipes, by their path in the repository. */
export type RecipeDoc = 'README.md' | 'docs/serve.md' | 'docs/git-credential.md' | 'docs/decode.md'

/**
 * The code of the block marked `<!-- recipe: name -->` in the README, or in `doc`.
 */
export function recipe(name: string, { doc = 'README.md' }: { doc?: RecipeDoc } = {}): string {
  const text = readFileSync(resolve(import.meta.dirname, '../..', doc), 'utf8')
  const marker = `<!-- recipe: ${name} -->`
  const at = text.indexOf(marker)
  assert.ok(at >= 0, `${doc} has no ${marker}`)
  const block = /^```\w*\n([\s\S]*?)^```$/m.exec(text.slice(at + marker.length))
  assert.ok(block?.[1] !== undefined, `no fenced block after ${marker}`)
  return block[1]
}

/** Every key must occur (else the README drifted from the test); no `<placeholder>` may remain. */
export function fillIn(text: string, swaps: Record<string, string>): string {
  let filled = text
  for (const [from, to] of Object.entries(swaps)) {
    assert.ok(filled.includes(from), `the recipe no longer has ${JSON.stringify(from)}:\n${text}`)
    filled = filled.replaceAll(from, to)
  }
  const left = /<[a-z][a-z ]*>/i.exec(filled)
  assert.equal(left, null, `a placeholder the test does not fill: ${left?.[0]}`)
  return filled
}

/** Runs a shell recipe as GitHub's `run:` steps do (`bash -eo pipefail`), msal-ts on PATH. */
export async function runShell(
  home: string,
  script: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  const result = await startShell(home, script, env, { stdin: 'ignore' })
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
  }
}

/**
 * Starts a shell recipe as runShell does, for a test that acts while it runs: signs in where it
 * prints a URL, or types into its stdin (`stdin: 'pipe'`) what a person would.
 */
export function startShell(
  home: string,
  script: string,
  env: Record<string, string>,
  { stdin }: { stdin: 'ignore' | 'pipe' },
) {
  const base = cliEnv(home, env)
  return execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    cwd: home,
    env: { ...base, PATH: `${dirname(bin)}:${base['PATH']}` },
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    stdin,
    timeout: 60_000,
  })
}

/** The first line of `stream` that matches `pattern`, once the program has printed it. */
export function lineMatching(stream: Readable, pattern: RegExp): Promise<string> {
  return new Promise((found, failed) => {
    let seen = ''
    const look = (chunk: Buffer) => {
      seen += chunk.toString()
      // Only whole lines: a URL may come in two chunks.
      const line = seen
        .split('\n')
        .slice(0, -1)
        .find((text) => pattern.test(text))
      if (line !== undefined) {
        stream.off('data', look)
        found(line)
      }
    }
    stream.on('data', look)
    stream.once('end', () => failed(new Error(`no line matching ${String(pattern)}:\n${seen}`)))
  })
}
