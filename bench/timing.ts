import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from './cache-hit-commands.js'
import {
  available,
  canMeasureUsage,
  type Finished,
  mean,
  median,
  runMeasured,
  runProcess,
  type Usage,
} from './processes.js'

export const warmup = 5
export const runs = 40

export interface Timing {
  medianMs: number
  meanMs: number
  /** user + sys CPU time of the child: the median, or hyperfine's mean */
  cpuMs?: number
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
    return withNodeHarness(commands, env, dir, 'BENCH_TIMER=node')
  }
  if (await available('hyperfine', ['--version'])) {
    return withHyperfine(commands, env, dir)
  }
  return withNodeHarness(commands, env, dir, 'hyperfine not found')
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
    results: { mean: number; median: number; user: number; system: number }[]
  }
  return {
    method: `hyperfine -N --warmup ${warmup} --runs ${runs} (one command after another; CPU is its mean user + system)`,
    results: doc.results.map((r) => ({
      medianMs: r.median * 1000,
      meanMs: r.mean * 1000,
      cpuMs: (r.user + r.system) * 1000,
    })),
  }
}

/**
 * Rounds that run each command once in turn, so a slow patch of the machine (another process, a
 * frequency change) falls on every command alike rather than on whichever ran then.
 */
async function withNodeHarness(
  commands: readonly Command[],
  env: Record<string, string>,
  dir: string,
  why: string,
): Promise<Timings> {
  const measured = await canMeasureUsage()
  const samples = commands.map(() => ({ wall: [] as number[], cpu: [] as number[] }))
  for (let round = 0; round < warmup + runs; round += 1) {
    for (const [index, command] of commands.entries()) {
      const result: Finished & { usage?: Usage } = measured
        ? await runMeasured(command.file, command.args, {
            env,
            usageFile: join(dir, 'usage.json'),
          })
        : await runProcess(command.file, command.args, { env })
      if (result.code !== 0) {
        throw new Error(`${command.label} failed (${result.code}): ${result.stderr}`)
      }
      if (round >= warmup) {
        samples[index]?.wall.push(result.ms)
        if (result.usage !== undefined) {
          samples[index]?.cpu.push(result.usage.cpuMs)
        }
      }
    }
  }
  const how = measured
    ? 'wall and CPU (user + sys) of the child from wait4 (bench/rusage.py)'
    : 'wall time only'
  return {
    method: `a Node harness spawning each command in turn, ${warmup} warm-up rounds, ${runs} timed rounds, ${how} (${why})`,
    results: samples.map(({ wall, cpu }) => ({
      medianMs: median(wall),
      meanMs: mean(wall),
      ...(cpu.length > 0 ? { cpuMs: median(cpu) } : {}),
    })),
  }
}

/** hyperfine -N splits its command line as a POSIX shell would. */
function shellWords(words: readonly string[]): string {
  return words.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ')
}
