import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface Finished {
  code: number
  stdout: string
  stderr: string
  ms: number
}

export interface SpawnOptions {
  env: Record<string, string>
  input?: string
}

/**
 * Always asynchronous: the fixture STS answers from this very process, so a synchronous spawn
 * would leave every child that talks to it waiting forever.
 */
export function runProcess(
  file: string,
  args: readonly string[],
  options: SpawnOptions,
): Promise<Finished> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint()
    const stdin = options.input === undefined ? 'ignore' : 'pipe'
    const child = spawn(file, args, { env: options.env, stdio: [stdin, 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk))
    const finish = (code: number, extra = '') =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + extra,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      })
    child.on('error', (error) => finish(-1, error.message))
    child.on('close', (code) => finish(code ?? -1))
    // A child that exits without reading its input is its own failure, reported by its exit code.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(options.input)
  })
}

/** Whether a program can be started at all, so a missing tool becomes a note, not a failure. */
export async function available(file: string, args: readonly string[]): Promise<boolean> {
  const result = await runProcess(file, args, { env: { PATH: process.env['PATH'] ?? '' } })
  return result.code === 0
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length
}

export interface Usage {
  wallMs: number
  /** user + sys CPU time of the child alone */
  cpuMs: number
  maxRssKiB: number
}

const rusage = join(import.meta.dirname, 'rusage.py')
const python = '/usr/bin/python3'

/** Whether runs can report their CPU time and peak RSS (bench/rusage.py needs Python 3.9). */
export async function canMeasureUsage(): Promise<boolean> {
  return available(python, ['-c', 'import os; os.waitstatus_to_exitcode'])
}

/** One run through bench/rusage.py: its own wall time, CPU time and peak RSS, from wait4. */
export async function runMeasured(
  file: string,
  args: readonly string[],
  options: SpawnOptions & { usageFile: string },
): Promise<Finished & { usage: Usage }> {
  const result = await runProcess(python, [rusage, file, ...args], {
    ...options,
    env: { ...options.env, BENCH_RUSAGE_FILE: options.usageFile },
  })
  const raw = JSON.parse(await readFile(options.usageFile, 'utf8')) as {
    wallMs: number
    userMs: number
    sysMs: number
    maxRssKiB: number
  }
  const usage = { wallMs: raw.wallMs, cpuMs: raw.userMs + raw.sysMs, maxRssKiB: raw.maxRssKiB }
  return { ...result, ms: usage.wallMs, usage }
}
