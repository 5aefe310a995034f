import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from './cache-hit-commands.js'
import { available, mean, median, runProcess } from './processes.js'

export const warmup = 5
export const runs = 40

export interface Timing {
  medianMs: number
  meanMs: number
}

export interface Timings {
  /** How it was timed, for the report. */
  method: string
  /** In the order of the commands. */
  results: Timing[]
}

/** hyperfine when the machine has it; otherwise a small harness of our own. */
export async function timeCommands(
  commands: readonly Command[],
  env: Record<string, string>,
  dir: string,
): Promise<Timings> {
  if (process.env['BENCH_TIMER'] === 'node') {
    return withNodeHarness(commands, env, 'BENCH_TIMER=node')
  }
  if (await available('hyperfine', ['--version'])) {
    return withHyperfine(commands, env, dir)
  }
  return withNodeHarness(commands, env, 'hyperfine not found')
}

async function withHyperfine(
  commands: readonly Command[],
  env: Record<string, string>,
  dir: string,
): Promise<Timings> {
  const json = join(dir, 'hyperfine.json')
  const args = ['-N', '--warmup', `${warmup}`, '--runs', `${runs}`, '--style', 'none']
  args.push('--export-json', json, ...commands.map((c) => shellWords([c.file, ...c.args])))
  const result = await runProcess('hyperfine', args, { env })
  if (result.code !== 0) {
    throw new Error(`hyperfine failed (${result.code}): ${result.stderr}`)
  }
  const doc = JSON.parse(await readFile(json, 'utf8')) as {
    results: { mean: number; median: number }[]
  }
  return {
    method: `hyperfine -N --warmup ${warmup} --runs ${runs} (one command after another)`,
    results: doc.results.map((r) => ({ medianMs: r.median * 1000, meanMs: r.mean * 1000 })),
  }
}

/**
 * Rounds that run each command once in turn, so a slow patch of the machine (another process, a
 * frequency change) falls on every command alike rather than on whichever ran then.
 */
async function withNodeHarness(
  commands: readonly Command[],
  env: Record<string, string>,
  why: string,
): Promise<Timings> {
  const samples: number[][] = commands.map(() => [])
  for (let round = 0; round < warmup + runs; round += 1) {
    for (const [index, command] of commands.entries()) {
      const result = await runProcess(command.file, command.args, { env })
      if (result.code !== 0) {
        throw new Error(`${command.label} failed (${result.code}): ${result.stderr}`)
      }
      if (round >= warmup) {
        samples[index]?.push(result.ms)
      }
    }
  }
  return {
    method: `a Node harness spawning each command in turn, ${warmup} warm-up rounds, ${runs} timed rounds (${why})`,
    results: samples.map((ms) => ({ medianMs: median(ms), meanMs: mean(ms) })),
  }
}

/** hyperfine -N splits its command line as a POSIX shell would. */
function shellWords(words: readonly string[]): string {
  return words.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ')
}
