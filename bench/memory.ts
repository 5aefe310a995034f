import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from './cache-hit-commands.js'
import { available, median, runProcess } from './processes.js'

export const rssRuns = 7

export interface PeakRss {
  method: string
  /** KiB, median over the runs; undefined when this command's peak cannot be read here. */
  results: (number | undefined)[]
}

const gnuTime = '/usr/bin/time'

/** GNU time's %M when there is one; otherwise each runtime reports its own peak at exit. */
export async function peakRss(
  commands: readonly Command[],
  env: Record<string, string>,
  dir: string,
): Promise<PeakRss> {
  const useTime = await available(gnuTime, ['-f', '%M', 'true'])
  const preload = join(dir, 'report-max-rss.cjs')
  await writeFile(
    preload,
    "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)))\n",
  )
  const out = join(dir, 'rss.txt')
  const samples: number[][] = commands.map(() => [])
  // Interleaved, as for timing; a couple of runs first so every file is in the page cache.
  for (let round = 0; round < rssRuns + 2; round += 1) {
    for (const [index, command] of commands.entries()) {
      await writeFile(out, '')
      const result = useTime
        ? await runProcess(gnuTime, ['-f', '%M', '-o', out, command.file, ...command.args], { env })
        : command.runtime === 'node'
          ? await runProcess(command.file, command.args, {
              env: { ...env, NODE_OPTIONS: `--require ${preload}`, BENCH_RSS_FILE: out },
            })
          : await runProcess(command.file, ['-c', pythonRusage, command.file, ...command.args], {
              env: { ...env, BENCH_RSS_FILE: out },
            })
      if (result.code !== 0) {
        throw new Error(`${command.label} failed (${result.code}): ${result.stderr}`)
      }
      const kib = Number((await readFile(out, 'utf8')).trim().split('\n').at(-1))
      if (round >= 2 && Number.isFinite(kib) && kib > 0) {
        samples[index]?.push(kib)
      }
    }
  }
  return {
    method: useTime
      ? `${gnuTime} -f %M, median of ${rssRuns} runs`
      : `process.resourceUsage().maxRSS at exit (Node) or getrusage of the child (Python), median of ${rssRuns} runs`,
    results: samples.map((kib) => (kib.length > 0 ? median(kib) : undefined)),
  }
}

// Python's own peak would include the wrapper, so it runs the peer as a child and asks for that.
const pythonRusage = [
  'import os, resource, subprocess, sys',
  'code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode',
  'open(os.environ["BENCH_RSS_FILE"], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))',
  'sys.exit(code)',
].join('\n')
