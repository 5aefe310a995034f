// `npm run bench`: how fast and how frugal msal-ts is, against a loopback STS started here.
// Prints a markdown report and writes it to docs/benchmarks.md (the README keeps a short summary
// by hand: a bench run never rewrites it).
import { readFile, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { setTimeout } from 'node:timers/promises'
import { cacheHitCommands, type Command, packageVersion } from './cache-hit-commands.js'
import { coldClientToken, helpStartup } from './cold.js'
import { peakRss } from './memory.js'
import { runProcess } from './processes.js'
import { renderReport } from './report.js'
import { redisResults } from './redis.js'
import { clientTokenBurst, clientTokenRequestCounts, refreshBurst } from './requests.js'
import { timeCommands } from './timing.js'
import { openWorkspace, type Workspace } from './workspace.js'

const started = performance.now()
const progress = (message: string) =>
  process.stderr.write(
    `bench: ${message} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
  )

const ws = await openWorkspace()
try {
  progress('cold client-token of each tool')
  const cold = await coldClientToken(ws)
  progress('start-up of the full CLI')
  const help = await helpStartup(ws)
  progress('signing in and checking the cache-hit commands')
  const cacheFile = join(ws.dir, 'cache-hit', 'token-cache.json')
  await ws.login(cacheFile)
  // msal-ts keeps a memo of a cached answer only once the files it read have been unchanged for
  // 3 s (src/commands/token-memo/record.ts): what is timed is the state a script sees all day.
  await setTimeout(3100)
  const cacheHit = await cacheHitCommands(ws, cacheFile)
  const checks = await checkOnce(ws, cacheHit.commands)
  progress('timing')
  const timings = await timeCommands(cacheHit.commands, ws.env, ws.dir)
  const machineCa = process.env['NODE_EXTRA_CA_CERTS']
  const withMachineCa = machineCa
    ? await timeCommands(
        cacheHit.commands.slice(0, 2),
        { ...ws.env, NODE_EXTRA_CA_CERTS: machineCa },
        ws.dir,
      )
    : undefined
  progress('peak RSS')
  const rss = await peakRss(cacheHit.commands, ws.env, ws.dir)
  progress('request counts and bursts')
  const counts = await clientTokenRequestCounts(ws)
  const clientBurst = await clientTokenBurst(ws)
  const refresh = await refreshBurst(ws)
  progress('the shared Redis cache')
  const redis = await redisResults(ws)
  const cpu = cpus()
  const report = renderReport({
    machine: `node ${process.version}, ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${process.platform} ${process.arch}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    versions: `msal-ts ${await ownVersion()}; @azure/msal-node ${(await packageVersion('@azure/msal-node')) ?? 'not installed'}; fixture STS on ${ws.sts.host}`,
    cold,
    help,
    cacheHit: { ...cacheHit, timings, rss, checks, ...(withMachineCa ? { withMachineCa } : {}) },
    counts,
    clientBurst,
    refreshBurst: refresh,
    redis,
  })
  process.stdout.write(report)
  await writeFile(join(import.meta.dirname, '../docs/benchmarks.md'), report)
  progress('done, written to docs/benchmarks.md')
} finally {
  await ws.close()
}

/** One run each before timing: what it asks the STS, and whether it answers msal-ts's token. */
async function checkOnce(
  workspace: Workspace,
  commands: readonly Command[],
): Promise<{ requests: number; sameToken: boolean }[]> {
  const checks = []
  let msalTsToken: string | undefined
  for (const [index, command] of commands.entries()) {
    workspace.sts.clearLog()
    const result = await runProcess(command.file, command.args, { env: workspace.env })
    if (result.code !== 0) {
      throw new Error(`${command.label} failed (${result.code}): ${result.stderr}`)
    }
    if (index === 1) {
      msalTsToken = result.stdout.trim()
    }
    checks.push({
      requests: workspace.sts.log.length,
      sameToken: msalTsToken !== undefined && result.stdout.trim() === msalTsToken,
    })
  }
  return checks
}

async function ownVersion(): Promise<string> {
  const text = await readFile(join(import.meta.dirname, '../package.json'), 'utf8')
  return (JSON.parse(text) as { version: string }).version
}
