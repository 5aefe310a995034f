import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { peerCommands } from './cache-hit-commands.js'
import { canMeasureUsage, median, runMeasured, runProcess, type Usage } from './processes.js'
import { clientTokenArgs } from './requests.js'
import { appScope, bin, type Workspace } from './workspace.js'

export const coldWarmup = 2
export const coldRuns = 20

/** A command run afresh each time; `dir` is a new, empty directory for that run alone. */
export interface FreshCommand {
  label: string
  file: string
  args(dir: string): string[]
  /** Added to the environment of a run in `dir`. */
  env?(dir: string): Record<string, string>
}

export interface FreshRow {
  label: string
  /** Medians over the timed runs. */
  wallMs: number
  cpuMs: number
  rssKiB: number
  /** STS requests of each timed run, when they were all the same; otherwise undefined. */
  requests: number | undefined
  /** Whether it printed a token (a JWT) on every run; undefined for commands that print none. */
  printedTokens?: boolean
}

export interface FreshResults {
  method: string
  rows: FreshRow[]
  skipped: { label: string; note: string }[]
}

/**
 * The first token of a fresh CI runner: each tool a new process with empty caches, tenant
 * discovery and one client-credential request to the same loopback STS, given its CA file.
 */
export async function coldClientToken(ws: Workspace): Promise<FreshResults> {
  const { sts } = ws
  const peerArgs = [sts.defaults.confidentialClientId, sts.authority(), sts.caFile, appScope]
  const commands: FreshCommand[] = [
    {
      label: '`msal-ts client-token`',
      file: bin,
      args: (dir) => clientTokenArgs(ws, join(dir, 'token-cache.json')),
    },
    {
      // Node 20 keeps no compiled code of its own: what a fresh runner's very first run pays.
      label: '`msal-ts client-token`, first run on the machine (no compile cache)',
      file: bin,
      args: (dir) => clientTokenArgs(ws, join(dir, 'token-cache.json')),
      env: (dir) => ({ TMPDIR: dir }),
    },
  ]
  const peers = await peerCommands(
    { node: 'msal-node-client.ts', python: 'msal_python_client.py' },
    peerArgs,
  )
  commands.push(
    ...peers.commands.map((peer) => ({
      label: peer.label,
      file: peer.file,
      args: () => peer.args,
    })),
  )
  const env = { ...ws.env, AZURE_CLIENT_SECRET: sts.defaults.clientSecret }
  return { ...(await measureFresh(ws, commands, env, { tokens: true })), skipped: peers.skipped }
}

/** `msal-ts client-token --help` beside `node -e 0`: what building the CLI costs. */
export async function helpStartup(ws: Workspace): Promise<FreshResults> {
  const commands: FreshCommand[] = [
    { label: '`node -e 0`', file: process.execPath, args: () => ['-e', '0'] },
    { label: '`msal-ts client-token --help`', file: bin, args: () => ['client-token', '--help'] },
  ]
  return { ...(await measureFresh(ws, commands, ws.env, { tokens: false })), skipped: [] }
}

/**
 * Rounds that run each command once in turn (so a slow patch of the machine falls on all alike),
 * each run through bench/rusage.py for the child's own CPU time and peak RSS.
 */
async function measureFresh(
  ws: Workspace,
  commands: readonly FreshCommand[],
  env: Record<string, string>,
  { tokens }: { tokens: boolean },
): Promise<Omit<FreshResults, 'skipped'>> {
  const samples = commands.map(() => ({ usage: [] as Usage[], requests: [] as number[], ok: true }))
  const root = join(ws.dir, 'fresh')
  const measured = await canMeasureUsage()
  for (let round = 0; round < coldWarmup + coldRuns; round += 1) {
    for (const [index, command] of commands.entries()) {
      const dir = join(root, `${round}-${index}`)
      await mkdir(dir, { recursive: true })
      ws.sts.clearLog()
      // Without Python only wall time is known; CPU and RSS are then reported as n/a.
      const result = measured
        ? await runMeasured(command.file, command.args(dir), {
            env: { ...env, ...command.env?.(dir) },
            usageFile: join(root, 'usage.json'),
          })
        : await runProcess(command.file, command.args(dir), {
            env: { ...env, ...command.env?.(dir) },
          }).then((finished) => ({
            ...finished,
            usage: { wallMs: finished.ms, cpuMs: NaN, maxRssKiB: NaN },
          }))
      if (result.code !== 0) {
        throw new Error(`${command.label} failed (${result.code}): ${result.stderr}`)
      }
      const sample = samples[index]
      if (round >= coldWarmup && sample !== undefined) {
        sample.usage.push(result.usage)
        sample.requests.push(ws.sts.log.length)
        sample.ok &&= /^ey[\w-]+\.[\w-]+\.[\w-]*\s*$/.test(result.stdout)
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
  return {
    method: `each run a new process (and for msal-ts a new, empty cache dir), ${coldWarmup} warm-up rounds then ${coldRuns} timed rounds of every command in turn; wall, CPU (user + sys) and peak RSS of the child from wait4 (bench/rusage.py)`,
    rows: commands.map((command, index) => {
      const { usage, requests, ok } = samples[index] ?? { usage: [], requests: [], ok: false }
      return {
        label: command.label,
        wallMs: median(usage.map((u) => u.wallMs)),
        cpuMs: median(usage.map((u) => u.cpuMs)),
        rssKiB: median(usage.map((u) => u.maxRssKiB)),
        requests: new Set(requests).size === 1 ? requests[0] : undefined,
        ...(tokens ? { printedTokens: ok } : {}),
      }
    }),
  }
}
