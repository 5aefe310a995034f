import type { CacheHitCommands } from './cache-hit-commands.js'
import type { FreshResults, FreshRow } from './cold.js'
import type { PeakRss } from './memory.js'
import type { RedisResults } from './redis.js'
import type { Burst, RequestCount } from './requests.js'
import { runs, type Timings, warmup } from './timing.js'

export const timeTarget = 1.1
export const rssTarget = 1.3
/** Cold `client-token` against the faster of MSAL Python and msal-node. */
export const coldTarget = 0.8
/** Cold `client-token` peak RSS against msal-node. */
export const coldRssTarget = 1.0
/** `msal-ts client-token --help` against `node -e 0`. */
export const helpTarget = 1.5
/** A Redis cache hit against a file cache hit. */
export const redisHitTarget = 1.3

export interface Results {
  machine: string
  date: string
  versions: string
  cold: FreshResults
  help: FreshResults
  cacheHit: CacheHitCommands & {
    timings: Timings
    rss: PeakRss
    /** STS requests one run of each command made, and whether it printed msal-ts's token. */
    checks: { requests: number; sameToken: boolean }[]
    /** `node -e 0` and `msal-ts token` again with the machine's NODE_EXTRA_CA_CERTS, when it has one. */
    withMachineCa?: Timings
  }
  counts: RequestCount[]
  clientBurst: Burst
  refreshBurst: Burst
  redis: RedisResults
}

const verdict = (ok: boolean) => (ok ? 'met' : '**MISSED**')
const ms = (value: number) => value.toFixed(1)
const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`

export function renderReport(r: Results): string {
  return [
    '# msal-ts benchmarks',
    '',
    `${r.machine} · ${r.date}`,
    '',
    r.versions,
    '',
    ...targetsSection(r),
    ...coldSection(r.cold),
    ...helpSection(r.help),
    ...cacheHitSection(r.cacheHit),
    ...countsSection(r.counts),
    ...burstSection(
      '5. 20 processes at once: one client-credential token, empty shared cache',
      r.clientBurst,
      'token requests',
    ),
    ...burstSection(
      '6. 20 processes at once: refresh of one expired user token',
      r.refreshBurst,
      'refresh requests',
    ),
    ...redisSection(r.redis),
    ...reproduceSection(),
  ].join('\n')
}

type TargetRow = [what: string, measured: string, target: string, met: boolean]

/** A row for a ratio target, or none when either figure is missing. */
function ratioRow(
  what: string,
  value: number | undefined,
  base: number | undefined,
  target: number,
): TargetRow[] {
  if (value === undefined || base === undefined) {
    return []
  }
  const x = value / base
  return [[what, `${x.toFixed(2)}×`, `≤ ${target}×`, x <= target]]
}

/** Every target of issue 18 in one table, each with the figure it was judged on. */
function targetsSection(r: Results): string[] {
  const [msalTs, firstRun, ...peers] = r.cold.rows
  const fastest = [...peers].sort((a, b) => a.wallMs - b.wallMs)[0]
  const msalNode = peers.find((row) => row.label.startsWith('msal-node'))
  const [node, help] = r.help.rows
  const [baseline, token] = r.cacheHit.timings.results
  const rows: TargetRow[] = [
    ...ratioRow(
      `cold \`client-token\` vs the faster peer (${fastest?.label ?? 'none'}), wall`,
      msalTs?.wallMs,
      fastest?.wallMs,
      coldTarget,
    ),
    ...ratioRow(
      'the same, first run on the machine (no compile cache yet), wall',
      firstRun?.wallMs,
      fastest?.wallMs,
      coldTarget,
    ),
    ...ratioRow(
      'cold `client-token` peak RSS vs msal-node',
      msalTs?.rssKiB,
      msalNode?.rssKiB,
      coldRssTarget,
    ),
    ...ratioRow(
      '`msal-ts client-token --help` vs `node -e 0`, wall',
      help?.wallMs,
      node?.wallMs,
      helpTarget,
    ),
    ...ratioRow(
      'cached `token` vs `node -e 0`, clean environment, wall',
      token?.medianMs,
      baseline?.medianMs,
      timeTarget,
    ),
  ]
  if (!('skipped' in r.redis)) {
    const [file, shared] = r.redis.cacheHit.results
    const b = r.redis.burst
    rows.push(
      ...ratioRow(
        'Redis cache hit vs file cache hit, wall',
        shared?.medianMs,
        file?.medianMs,
        redisHitTarget,
      ),
      [
        '20 runners, 20 cache dirs, one Redis, empty cache: token + discovery requests',
        `${b.tokenRequests} + ${b.discoveryRequests}`,
        '1 + 1',
        b.tokenRequests === 1 && b.discoveryRequests === 1 && b.succeeded === b.processes,
      ],
    )
  }
  return [
    '## Targets',
    '',
    '| figure | measured | target | |',
    '|---|---:|---:|---|',
    ...rows.map(
      ([what, value, target, met]) => `| ${what} | ${value} | ${target} | ${verdict(met)} |`,
    ),
    '',
  ]
}

function freshTable(rows: readonly FreshRow[], base: FreshRow | undefined): string[] {
  return [
    '| command | median wall ms | median CPU ms (user + sys) | wall × first row | peak RSS MiB | STS requests per run | printed a token every run |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map((row) => {
      const printed = row.printedTokens === undefined ? '' : row.printedTokens ? 'yes' : '**no**'
      return `| ${row.label} | ${ms(row.wallMs)} | ${ms(row.cpuMs)} | ${ratio(row.wallMs, base?.wallMs ?? NaN)} | ${(row.rssKiB / 1024).toFixed(1)} | ${row.requests ?? 'varied'} | ${printed} |`
    }),
  ]
}

function coldSection(cold: FreshResults): string[] {
  return [
    '## 1. Cold `client-token`: the first token of a fresh CI runner',
    '',
    'Each tool is a new process with empty caches, makes tenant discovery and one client-credential request to the same loopback STS, and is given its CA file (`--ca-file`; msal-node `customAgentOptions.ca`; MSAL Python `verify=`). msal-node gets `cloudDiscoveryMetadata` and MSAL Python `instance_discovery=False`, so none of them asks instance discovery; msal-ts never does for a loopback authority.',
    '',
    "Empty caches are the token and HTTP caches. What a tool keeps of its own code is warm, as on any machine that ran it before: MSAL Python's bytecode (`.pyc`, written when Debian installs it), and on Node 20 msal-ts's compile cache (in `$TMPDIR`, kept from the warm-up rounds; Node 22 and later keep their own). The second row is msal-ts's very first run on a machine, with an empty `$TMPDIR` each run.",
    '',
    ...freshTable(cold.rows, cold.rows[0]),
    ...cold.skipped.map((s) => `| ${s.label} | skipped: ${s.note} | | | | | |`),
    '',
    `Method: ${cold.method}. CPU time is the child's own, so a slow STS (it runs in the bench's process) shows in wall time only.`,
    '',
  ]
}

function helpSection(help: FreshResults): string[] {
  return [
    '## 2. Start-up of the full CLI: `msal-ts client-token --help`',
    '',
    ...freshTable(help.rows, help.rows[0]),
    '',
    `Method: ${help.method}.`,
    '',
  ]
}

function cacheHitSection(c: Results['cacheHit']): string[] {
  const baseTime = c.timings.results[0]?.medianMs ?? NaN
  const baseRss = c.rss.results[0]
  const rows = c.commands.map((command, index) => {
    const time = c.timings.results[index]
    const rss = c.rss.results[index]
    const check = c.checks[index]
    const timeRatio = (time?.medianMs ?? NaN) / baseTime
    const rssRatio = rss !== undefined && baseRss !== undefined ? rss / baseRss : NaN
    const target =
      index === 0
        ? 'baseline'
        : index === 1
          ? `time ≤ ${timeTarget}×: ${verdict(timeRatio <= timeTarget)}; RSS ≤ ${rssTarget}×: ${verdict(rssRatio <= rssTarget)}`
          : ''
    const token = index === 0 ? '' : check?.sameToken ? 'yes' : '**no**'
    return `| ${command.label} | ${ms(time?.medianMs ?? NaN)} | ${ms(time?.meanMs ?? NaN)} | ${ms(time?.cpuMs ?? NaN)} | ${ratio(time?.medianMs ?? NaN, baseTime)} | ${rss === undefined ? 'n/a' : (rss / 1024).toFixed(1)} | ${Number.isNaN(rssRatio) ? 'n/a' : `${rssRatio.toFixed(2)}×`} | ${check?.requests ?? ''} | ${token} | ${target} |`
  })
  return [
    '## 3. Warm `msal-ts token` (cache hit)',
    '',
    'Every command reads the cache file one `msal-ts login --username … --password-stdin` wrote. Each runs with only PATH and HOME set: no `NODE_EXTRA_CA_CERTS`, which makes every Node start load a CA bundle (tens of ms) and so would flatter the ratios.',
    '',
    '`msal-ts token` answers a question it answered before from a memo of that answer (`token-memo.json` in its cache directory; it names the cache entry, not the token), once every file the answer read has been unchanged for 3 s: the bench waits those 3 s after signing in. The memo holds while the arguments, the working directory, the variables the answer read and what is at each path it looked at are as they were; the no-memo row is the same question asked for the first time, through the cache-hit path.',
    '',
    '| command | median ms | mean ms | CPU ms (user + sys) | time × `node -e 0` (median) | peak RSS MiB | RSS × `node -e 0` | STS requests per run | same token as msal-ts | target |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...rows,
    ...c.skipped.map((s) => `| ${s.label} | skipped: ${s.note} | | | | | | | | |`),
    '',
    `Time: ${c.timings.method}. Peak RSS: ${c.rss.method}.`,
    ...machineCaLine(c.withMachineCa),
    'msal-node runs from a CommonJS bundle of `bench/peers/msal-node.ts` (its fastest start) with `cloudDiscoveryMetadata` given, so it skips instance discovery (and knows `127.0.0.1`, the environment in the cache, as an alias of `127.0.0.1:<port>`) but still fetches the OpenID configuration in every process; MSAL Python (`instance_discovery=False`) fetches it in its constructor. Those requests are part of their cost and are counted here.',
    '',
  ]
}

/** The anchor figures (`node -e 0` about 47 ms) were taken with the machine's CA bundle loaded. */
function machineCaLine(timings: Timings | undefined): string[] {
  const [node, token] = timings?.results ?? []
  if (node === undefined || token === undefined) {
    return []
  }
  const r = token.medianMs / node.medianMs
  return [
    `With this machine's \`NODE_EXTRA_CA_CERTS\` set, as the anchor figures were measured: \`node -e 0\` ${ms(node.medianMs)} ms, \`msal-ts token\` ${ms(token.medianMs)} ms (${r.toFixed(2)}×, target ${timeTarget}×: ${verdict(r <= timeTarget)}).`,
  ]
}

function countsSection(counts: RequestCount[]): string[] {
  const expected: Record<string, number> = {
    'cold token cache, warm HTTP cache': 1,
    'cold everything (empty cache dir)': 2,
    'warm token cache': 0,
  }
  return [
    '## 4. STS requests of one `msal-ts client-token`',
    '',
    '| cache state | requests | what | target |',
    '|---|---:|---|---|',
    ...counts.map((c) => {
      const want = expected[c.scenario]
      const what = c.requests.map((e) => `${e.method} ${e.path}`).join(', ') || '—'
      const target =
        want === undefined ? '' : `${want}: ${verdict(c.ok && c.requests.length === want)}`
      return `| ${c.scenario} | ${c.requests.length} | ${what} | ${target} |`
    }),
    '',
    'Cold = tenant discovery (OpenID configuration) + token. A loopback authority is never sent to instance discovery; a well-known cloud (login.microsoftonline.com and the other national clouds MSAL knows) skips it too, so it makes the same 2; only an Entra host MSAL does not know adds an instance-discovery GET.',
    '',
  ]
}

function burstSection(title: string, b: Burst, counted: string): string[] {
  return [
    `## ${title}`,
    '',
    ...burstTable(b, counted),
    '',
    'Wall: from the first spawn to the last exit, all 20 on this machine at once.',
    '',
  ]
}

function burstTable(b: Burst, counted: string): string[] {
  return [
    `| processes | exit 0 | distinct tokens printed | ${counted} | all STS requests | wall ms | target |`,
    '|---:|---:|---:|---:|---:|---:|---|',
    `| ${b.processes} | ${b.succeeded} | ${b.distinctTokens} | ${b.tokenRequests} | ${b.allRequests}: ${b.breakdown || '—'} | ${b.wallMs.toFixed(0)} | 1 ${counted.replace(/s$/, '')}, all succeed: ${verdict(b.tokenRequests === 1 && b.succeeded === b.processes)} |`,
  ]
}

function redisSection(redis: RedisResults): string[] {
  const title = '## 7. The token cache shared through Redis (`--cache-url`)'
  if ('skipped' in redis) {
    return [title, '', `Skipped: ${redis.skipped}.`, '']
  }
  const [file, shared] = redis.cacheHit.results
  return [
    title,
    '',
    'Burst: 20 `client-token` processes at once, each with its own cache dir (as on 20 machines), one Redis, empty cache:',
    '',
    ...burstTable(redis.burst, 'token requests'),
    '',
    `Discovery requests between the 20: ${redis.burst.discoveryRequests} (target 1: ${verdict(redis.burst.discoveryRequests === 1)}).`,
    '',
    'Cache hit of a warm `client-token`, the file cache beside Redis:',
    '',
    '| token cache | median ms | mean ms | CPU ms (user + sys) | × file cache (median) | target |',
    '|---|---:|---:|---:|---:|---|',
    `| file | ${ms(file?.medianMs ?? NaN)} | ${ms(file?.meanMs ?? NaN)} | ${ms(file?.cpuMs ?? NaN)} | 1.00× | |`,
    `| Redis on loopback | ${ms(shared?.medianMs ?? NaN)} | ${ms(shared?.meanMs ?? NaN)} | ${ms(shared?.cpuMs ?? NaN)} | ${ratio(shared?.medianMs ?? NaN, file?.medianMs ?? NaN)} | ≤ ${redisHitTarget}×: ${verdict((shared?.medianMs ?? NaN) / (file?.medianMs ?? NaN) <= redisHitTarget)} |`,
    '',
    `Time: ${redis.cacheHit.method}. With \`--cache-url\` the discovery documents are shared through Redis as the tokens are, so the burst makes one discovery request between its 20 processes.`,
    '',
  ]
}

function reproduceSection(): string[] {
  return [
    '## Reproduce',
    '',
    '```sh',
    'npm install                      # @azure/msal-node 3 is a devDependency',
    "apt-get install hyperfine time python3 python3-msal redis-server   # optional: each missing one only drops to a fallback or skips a row (python3 gives CPU time and the cold rows' RSS)",
    'npm run bench                    # builds, runs everything on loopback, writes docs/benchmarks.md',
    'BENCH_TIMER=node npm run bench   # time with the Node harness even where hyperfine exists',
    '```',
    '',
    'By hand, with the fixture STS running (its URL, CA file and client ids come from `startSts()`):',
    '',
    '```sh',
    'msal-ts login -c $CLIENT -a $AUTHORITY --ca-file $CA --cache-file $CACHE --username alice@contoso.onmicrosoft.com --password-stdin --scope https://graph.microsoft.com/User.Read',
    `hyperfine -N --warmup ${warmup} --runs ${runs} 'node -e 0' \\`,
    '  "bin/msal-ts token -c $CLIENT -a $AUTHORITY --ca-file $CA --cache-file $CACHE --scope https://graph.microsoft.com/User.Read" \\',
    '  "node node_modules/.cache/msal-ts-bench/msal-node.cjs $CACHE $CLIENT $AUTHORITY $CA https://graph.microsoft.com/User.Read" \\',
    '  "/usr/bin/python3 bench/peers/msal_python.py $CACHE $CLIENT $AUTHORITY $CA https://graph.microsoft.com/User.Read"',
    '/usr/bin/time -f %M bin/msal-ts token ...   # peak RSS in KiB',
    '# a cold client-token: a new cache dir each run; wall, CPU (user + sys) and peak RSS of the child',
    'BENCH_RUSAGE_FILE=usage.json /usr/bin/python3 bench/rusage.py bin/msal-ts client-token -c $CONFIDENTIAL_CLIENT -a $AUTHORITY --ca-file $CA --cache-file $(mktemp -d)/token-cache.json --scope https://graph.microsoft.com/.default; cat usage.json',
    '```',
    '',
    'MSAL Python needs an environment without `REQUESTS_CA_BUNDLE`, which would override its `verify`.',
    '',
  ]
}
