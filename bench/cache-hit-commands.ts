import { mkdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { available, runProcess } from './processes.js'
import { bin, userScope, type Workspace } from './workspace.js'

export interface Command {
  label: string
  /** Which way its peak RSS can be read when /usr/bin/time is missing. */
  runtime: 'node' | 'python'
  file: string
  args: string[]
}

export interface CacheHitCommands {
  /** The first is the baseline, the second msal-ts. */
  commands: Command[]
  /** Peers that could not run here, with why. */
  skipped: { label: string; note: string }[]
}

const repo = resolve(import.meta.dirname, '..')

/**
 * `node -e 0`, `msal-ts token` and the two reference MSALs, all reading the one cache file that
 * `msal-ts login` wrote, so each answers the same cached token.
 */
export async function cacheHitCommands(
  ws: Workspace,
  cacheFile: string,
): Promise<CacheHitCommands> {
  const { sts } = ws
  const peerArgs = [cacheFile, sts.defaults.publicClientId, sts.authority(), sts.caFile, userScope]
  const tokenArgs = ['token', ...ws.publicArgs, '--cache-file', cacheFile, '--scope', userScope]
  const commands: Command[] = [
    { label: '`node -e 0`', runtime: 'node', file: process.execPath, args: ['-e', '0'] },
    { label: '`msal-ts token`', runtime: 'node', file: bin, args: tokenArgs },
    {
      // Its memo directory is a file: it can neither read a memo nor write one, as on a first ask.
      label: '`msal-ts token`, no memo (a first ask; started through env(1))',
      runtime: 'node',
      file: 'env',
      args: [`XDG_CACHE_HOME=${cacheFile}/none`, bin, ...tokenArgs],
    },
  ]
  const peers = await peerCommands({ node: 'msal-node.ts', python: 'msal_python.py' }, peerArgs)
  return { commands: [...commands, ...peers.commands], skipped: peers.skipped }
}

/** msal-node and MSAL Python running these peers (bench/peers/) with these arguments, where they can. */
export async function peerCommands(
  peers: { node: string; python: string },
  args: readonly string[],
): Promise<CacheHitCommands> {
  const commands: Command[] = []
  const skipped: CacheHitCommands['skipped'] = []
  const msalNode = await msalNodePeer(peers.node)
  if (typeof msalNode === 'string') {
    commands.push({
      label: `msal-node ${await packageVersion('@azure/msal-node')}`,
      runtime: 'node',
      file: process.execPath,
      args: [msalNode, ...args],
    })
  } else {
    skipped.push({ label: 'msal-node', note: msalNode.note })
  }
  const python = await msalPython()
  if (python !== undefined) {
    commands.push({
      label: `MSAL Python ${python.version}`,
      runtime: 'python',
      file: python.file,
      args: [join(import.meta.dirname, 'peers', peers.python), ...args],
    })
  } else {
    skipped.push({ label: 'MSAL Python', note: 'no python3 with the msal module on this machine' })
  }
  return { commands, skipped }
}

/**
 * The peer is TypeScript, so it is bundled once to CommonJS beside node_modules, where it resolves
 * msal-node as any app would; running it through tsx would charge msal-node for tsx's start-up.
 */
async function msalNodePeer(entry: string): Promise<string | { note: string }> {
  if ((await packageVersion('@azure/msal-node')) === undefined) {
    return { note: '@azure/msal-node is not installed (npm install -D @azure/msal-node@3)' }
  }
  const outDir = join(repo, 'node_modules/.cache/msal-ts-bench')
  await mkdir(outDir, { recursive: true })
  const outfile = join(outDir, entry.replace(/\.ts$/, '.cjs'))
  await build({
    entryPoints: [join(import.meta.dirname, 'peers', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  })
  return outfile
}

async function msalPython(): Promise<{ file: string; version: string } | undefined> {
  for (const file of ['/usr/bin/python3', 'python3']) {
    if (await available(file, ['-c', 'import msal'])) {
      const result = await runProcess(file, ['-c', 'import msal; print(msal.__version__)'], {
        env: { PATH: process.env['PATH'] ?? '' },
      })
      return { file, version: result.stdout.trim() }
    }
  }
  return undefined
}

export async function packageVersion(name: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(repo, 'node_modules', name, 'package.json'), 'utf8')
    return (JSON.parse(text) as { version: string }).version
  } catch {
    return undefined
  }
}
