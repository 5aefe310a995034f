import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { before, describe, test } from 'node:test'
import { execa } from 'execa'
import { bin, run, tempDir } from './harness.js'

const root = resolve(import.meta.dirname, '../..')
const helpers = join(import.meta.dirname, 'completion')
const files = { bash: 'msal-ts.bash', zsh: '_msal-ts', fish: 'msal-ts.fish' } as const

/** A cache with two signed-in accounts, as MSAL writes them. */
function cacheWith(usernames: string[]): string {
  const accounts = Object.fromEntries(
    usernames.map((username, i) => [
      `uid${i}.utid-login.microsoftonline.com-utid`,
      {
        home_account_id: `uid${i}.utid`,
        environment: 'login.microsoftonline.com',
        realm: 'utid',
        local_account_id: `uid${i}`,
        username,
        authority_type: 'MSSTS',
      },
    ]),
  )
  return JSON.stringify({ Account: accounts, AccessToken: {}, RefreshToken: {}, IdToken: {} })
}

describe('shell completions', () => {
  let home: string
  let env: Record<string, string>

  before(async () => {
    home = await tempDir()
    const cacheDir = join(home, 'cache')
    await mkdir(cacheDir, { recursive: true })
    await writeFile(
      join(cacheDir, 'token-cache.app.login.microsoftonline.com.common.json'),
      cacheWith(['bob@contoso.com', 'alice@contoso.com']),
    )
    // The shells find msal-ts on PATH, as a user's would, for the cached account names.
    env = {
      PATH: `${dirname(bin)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      HOME: home,
      MSAL_TS_CACHE_DIR: cacheDir,
      MSAL_TS_CONFIG_DIR: join(home, 'config'),
    }
  })

  test('the files in completions/ are what msal-ts completion prints', async () => {
    for (const [shell, name] of Object.entries(files)) {
      const printed = await run(home, ['completion', shell])
      assert.equal(printed.exitCode, 0, printed.stderr)
      assert.equal(
        printed.stdout,
        await readFile(join(root, 'completions', name), 'utf8'),
        `completions/${name} is stale: run npm run build && node scripts/completions.mjs`,
      )
    }
    const bad = await run(home, ['completion', 'tcsh'])
    assert.equal(bad.exitCode, 2)
    assert.match(
      bad.stderr,
      /value 'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/,
    )
  })

  test('__complete accounts lists cached usernames with no network; profiles lists profiles', async () => {
    const accounts = await execa(bin, ['__complete', 'accounts'], { env, extendEnv: false })
    assert.equal(accounts.stdout, 'alice@contoso.com\nbob@contoso.com')
    const other = join(home, 'other.json')
    // A username that would add a candidate (or a line) of its own is not offered.
    await writeFile(other, cacheWith(['carol@fabrikam.com', 'eve@fabrikam.com\n--evil', 'a b']))
    const byFile = await execa(bin, ['__complete', 'accounts', 'token', `--cache-file=${other}`], {
      env,
      extendEnv: false,
    })
    assert.equal(byFile.stdout, 'carol@fabrikam.com')
    await execa(bin, ['config', 'set', '--profile', 'work', 'tenant', 'contoso.com'], {
      env,
      extendEnv: false,
    })
    const profiles = await execa(bin, ['__complete', 'profiles'], { env, extendEnv: false })
    assert.equal(profiles.stdout, 'work')
    const broken = await execa(bin, ['__complete', 'accounts', '--cache-dir', join(home, 'none')], {
      env,
      extendEnv: false,
    })
    assert.equal(broken.exitCode, 0)
    assert.equal(broken.stdout + broken.stderr, '')
  })

  const cases: [string[], string[]][] = [
    [['msal-ts', 'to'], ['token']],
    [
      ['msal-ts', 'c'],
      ['client-token', 'config', 'completion'],
    ],
    [['msal-ts', 'token', '--min'], ['--min-validity']],
    [
      ['msal-ts', 'token', '-o', ''],
      ['raw', 'json', 'header', 'env', 'kubectl'],
    ],
    [['msal-ts', 'token', '--cloud', 'u'], ['usgov']],
    [
      ['msal-ts', 'serve', '-o', ''],
      ['env', 'json'],
    ],
    [['msal-ts', 'token', '--log-level', 'd'], ['debug']],
    [['msal-ts', 'login', '--prompt', 's'], ['select_account']],
    [
      ['msal-ts', 'login', '--response-mode', ''],
      ['query', 'form_post'],
    ],
    [
      ['msal-ts', 'completion', ''],
      ['bash', 'zsh', 'fish'],
    ],
    [
      ['msal-ts', 'config', 'set', 'cl'],
      ['client-id', 'cloud'],
    ],
    [
      ['msal-ts', 'token', '--account', ''],
      ['alice@contoso.com', 'bob@contoso.com'],
    ],
  ]
  const sorted = (list: string[]) => [...list].sort()

  test('bash: the completion function answers with COMP_WORDS and COMP_CWORD set', async () => {
    const script = join(root, 'completions', files.bash)
    for (const [words, expected] of cases) {
      const result = await execa('bash', [join(helpers, 'complete.bash'), script, ...words], {
        env,
        extendEnv: false,
      })
      assert.deepEqual(
        sorted(result.stdout.split('\n').filter(Boolean)),
        sorted(expected),
        words.join(' '),
      )
    }
    // bash splits --output=j at the "="
    const split = await execa(
      'bash',
      [join(helpers, 'complete.bash'), script, 'msal-ts', 'token', '--output', '=', 'j'],
      { env, extendEnv: false },
    )
    assert.equal(split.stdout, 'json')
  })

  test('bash: the script loads beside bash-completion, and registers for msal-ts', async () => {
    const result = await execa(
      'bash',
      [
        '-c',
        `source /usr/share/bash-completion/bash_completion && source ${join(root, 'completions', files.bash)} && complete -p msal-ts`,
      ],
      { env, extendEnv: false },
    )
    assert.equal(result.stdout, 'complete -F _msal_ts msal-ts')
  })

  test('zsh: the completion system offers the candidates on Tab', async () => {
    const script = join(root, 'completions', files.zsh)
    for (const [words, expected] of cases) {
      const result = await execa(
        'zsh',
        ['-f', join(helpers, 'capture.zsh'), script, words.join(' ')],
        { env, extendEnv: false },
      )
      assert.deepEqual(
        sorted(result.stdout.split('\n').filter(Boolean)),
        sorted(expected),
        words.join(' '),
      )
    }
  })

  test('fish: complete -C offers the candidates', async () => {
    const script = join(root, 'completions', files.fish)
    for (const [words, expected] of cases) {
      const result = await execa(
        'fish',
        ['--no-config', '-c', `source ${script}; complete -C ${JSON.stringify(words.join(' '))}`],
        { env, extendEnv: false },
      )
      const offered = result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t')[0] ?? '')
      // fish also matches inside words (c -> ca-file); what bash and zsh offer must be among them.
      for (const candidate of expected) {
        assert.ok(
          offered.includes(candidate),
          `${words.join(' ')}: ${candidate} not in ${offered.join(' ')}`,
        )
      }
    }
  })
})
