/**
 * Which CA file msal-ts trusts when several are set (cli.md, `--ca-file`): its own settings
 * (option, MSAL_TS_CA_FILE, profile) beat the machine-wide SSL_CERT_FILE and NODE_EXTRA_CA_CERTS,
 * and an untrusted certificate names the CA file in effect and where it came from.
 */
import assert from 'node:assert/strict'
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { makePki } from '../fixtures/pki.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, tempDir } from './harness.js'

const graph = 'https://graph.microsoft.com/.default'

describe('CA file precedence', () => {
  let sts: Sts
  /** A CA that did not sign the STS's certificate. */
  let otherCa: string

  before(async () => {
    sts = await startSts()
    otherCa = makePki(await tempDir()).caFile
  })
  after(() => sts.close())

  /** A home whose config dir is its own, with `ca-file` set in the given profile. */
  async function homeWithProfileCa(
    caFile: string,
    profile?: string,
  ): Promise<{ home: string; env: Record<string, string> }> {
    const home = await tempDir()
    const env = { MSAL_TS_CONFIG_DIR: join(home, 'config') }
    const where = profile === undefined ? [] : ['--profile', profile]
    const set = await run(home, ['config', 'set', ...where, 'ca-file', caFile], { env })
    assert.equal(set.exitCode, 0, set.stderr)
    return { home, env }
  }

  /** Each run with a cache of its own, so every one makes its TLS connections. */
  const clientToken = async (home: string, env: Record<string, string>, extra: string[] = []) =>
    run(
      home,
      [
        'client-token',
        '-c',
        sts.defaults.confidentialClientId,
        '-a',
        sts.authority(),
        '--scope',
        graph,
        ...extra,
      ],
      {
        env: {
          AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
          MSAL_TS_CACHE_DIR: await tempDir(),
          ...env,
        },
      },
    )

  const untrusted = (source: string, file: string) =>
    new RegExp(
      `^msal-ts: tls_error: the TLS certificate of 127\\.0\\.0\\.1:\\d+ is not trusted \\(\\w+\\); pass --ca-file with its CA, or fix the proxy \\(CA file from ${source}: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)\n$`,
    )

  test("the profile's CA file beats SSL_CERT_FILE and NODE_EXTRA_CA_CERTS set to another CA", async () => {
    const { home, env } = await homeWithProfileCa(sts.caFile)
    const result = await clientToken(home, {
      ...env,
      SSL_CERT_FILE: otherCa,
      NODE_EXTRA_CA_CERTS: otherCa,
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
  })

  test('NODE_EXTRA_CA_CERTS that Node trusts adds no trust beside a profile CA file, and the error names the profile', async () => {
    const { home, env } = await homeWithProfileCa(otherCa)
    const result = await clientToken(home, { ...env, NODE_EXTRA_CA_CERTS: sts.caFile })
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, untrusted('profile default', otherCa))
  })

  test('a named profile is named in the error', async () => {
    const { home, env } = await homeWithProfileCa(otherCa, 'lab')
    const result = await clientToken(home, { ...env, SSL_CERT_FILE: sts.caFile }, [
      '--profile',
      'lab',
    ])
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, untrusted('profile lab', otherCa))
  })

  test('MSAL_TS_CA_FILE beats the profile and SSL_CERT_FILE; --ca-file beats MSAL_TS_CA_FILE', async () => {
    const { home, env } = await homeWithProfileCa(otherCa)
    const fromEnv = await clientToken(home, {
      ...env,
      MSAL_TS_CA_FILE: sts.caFile,
      SSL_CERT_FILE: otherCa,
    })
    assert.equal(fromEnv.exitCode, 0, fromEnv.stderr)
    const wrongEnv = await clientToken(home, { ...env, MSAL_TS_CA_FILE: otherCa })
    assert.match(wrongEnv.stderr, untrusted('MSAL_TS_CA_FILE', otherCa))
    const fromOption = await clientToken(home, { ...env, MSAL_TS_CA_FILE: otherCa }, [
      '--ca-file',
      sts.caFile,
    ])
    assert.equal(fromOption.exitCode, 0, fromOption.stderr)
  })

  test('without settings of its own, msal-ts uses SSL_CERT_FILE, and says so when it fails', async () => {
    const home = await tempDir()
    const trusted = await clientToken(home, { SSL_CERT_FILE: sts.caFile })
    assert.equal(trusted.exitCode, 0, trusted.stderr)
    const wrong = await clientToken(home, { SSL_CERT_FILE: otherCa })
    assert.match(wrong.stderr, untrusted('SSL_CERT_FILE', otherCa))
    const none = await clientToken(home, {})
    assert.match(none.stderr, /\(no CA file set: Node's built-in CAs only\)\n$/)
  })

  test('a CA file every user can write, or reached through a link in an open directory, is never trusted', async () => {
    const home = await tempDir()
    const writable = join(home, 'writable.pem')
    await copyFile(sts.caFile, writable)
    await chmod(writable, 0o666)
    const open = join(home, 'open')
    await mkdir(open)
    await chmod(open, 0o777)
    const linked = join(open, 'linked.pem')
    await symlink(sts.caFile, linked)
    // A file anyone can rename another over, and a link in a safe directory leading to it.
    const replaceable = join(open, 'plain.pem')
    await copyFile(sts.caFile, replaceable)
    await chmod(replaceable, 0o644)
    const intoOpen = join(home, 'into-open.pem')
    await symlink(replaceable, intoOpen)
    // A directory of the user's own in the open one can itself be renamed away and replaced.
    await mkdir(join(open, 'deep'))
    const deep = join(open, 'deep', 'ca.pem')
    await copyFile(sts.caFile, deep)
    const everyone = 'every user can write it (mode 0666)'
    const cases: [string[], Record<string, string>, string][] = [
      [['--ca-file', writable], {}, `${writable}: ${everyone}`],
      [[], { MSAL_TS_CA_FILE: writable }, `${writable} (from MSAL_TS_CA_FILE): ${everyone}`],
      [[], { SSL_CERT_FILE: writable }, `${writable}: ${everyone} (from SSL_CERT_FILE)`],
      [
        ['--ca-file', linked],
        {},
        `${linked}: it is a symbolic link in ${open}, a directory other users can write`,
      ],
      [
        ['--ca-file', replaceable],
        {},
        `${replaceable}: it is in ${open}, a directory every user can write`,
      ],
      [
        ['--ca-file', intoOpen],
        {},
        `${intoOpen}: it is in ${open}, a directory every user can write`,
      ],
      [['--ca-file', deep], {}, `${deep}: it is in ${open}, a directory every user can write`],
      [
        [],
        { SSL_CERT_FILE: join(home, 'missing.pem') },
        `${join(home, 'missing.pem')}: no such file (from SSL_CERT_FILE)`,
      ],
    ]
    for (const [extra, env, message] of cases) {
      const result = await clientToken(home, env, extra)
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, `msal-ts: ca_file: cannot use the CA file ${message}\n`)
    }
    // The same file, writable by its owner only, is trusted; so is one of this user's in a
    // sticky directory (as /tmp is), where no one else can rename over it.
    await chmod(writable, 0o644)
    const trusted = await clientToken(home, {}, ['--ca-file', writable])
    assert.equal(trusted.exitCode, 0, trusted.stderr)
    await chmod(open, 0o1777)
    const sticky = await clientToken(home, {}, ['--ca-file', replaceable])
    assert.equal(sticky.exitCode, 0, sticky.stderr)
  })

  test('a damaged certificate in a CA bundle is a usage error, not a server refused by the CAs after it', async () => {
    const home = await tempDir()
    const good = await readFile(sts.caFile, 'utf8')
    const damaged = '-----BEGIN CERTIFICATE-----\nTUlJQmFkQm9keQ==\n-----END CERTIFICATE-----\n'
    const truncated = good.replace(/\n[^\n]*\n(-----END CERTIFICATE-----)/, '\n$1')
    for (const [bundle, reason] of [
      [damaged + good, 'certificate 1 in it is not a certificate'],
      [good + truncated, 'certificate 2 in it is not a certificate'],
      [
        good + '-----BEGIN CERTIFICATE-----\nTUlJ\n',
        'certificate 2 in it has no END CERTIFICATE line',
      ],
      [
        '-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n' + good,
        'certificate 1 in it is not a certificate',
      ],
      [
        // Not AAAA: after a last line without padding that is valid base64 (the CA is made anew
        // each run), and the block is then a damaged certificate instead.
        good.replace(/\n(-----END CERTIFICATE-----)/, '\n****\n$1') + good,
        'certificate 1 in it is not valid base64',
      ],
      [
        good.replace(/\n(-----END CERTIFICATE-----)/, '\n  $1') + good,
        'certificate 1 in it has no END CERTIFICATE line at the start of a line',
      ],
      [
        good.replace(/\n(-----END CERTIFICATE-----)/, '\n\n$1') + good,
        'certificate 1 in it is not valid base64',
      ],
      [
        good.replace('BEGIN CERTIFICATE', 'BEGIN TRUSTED CERTIFICATE') + good,
        'certificate 1 in it has no END TRUSTED CERTIFICATE line at the start of a line',
      ],
    ] as const) {
      const file = join(home, 'bundle.pem')
      await writeFile(file, bundle)
      const result = await clientToken(home, {}, ['--ca-file', file])
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, `msal-ts: ca_file: cannot use the CA file ${file}: ${reason}\n`)
    }
    // A key block with headers (openssl genrsa -traditional -aes256) is skipped, as OpenSSL skips
    // it; a byte-order mark before a BEGIN line is read past.
    const key = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'Proc-Type: 4,ENCRYPTED',
      'DEK-Info: AES-256-CBC,00',
      '',
      'AAAA',
      '-----END RSA PRIVATE KEY-----',
      '',
    ].join('\n')
    await writeFile(
      join(home, 'bundle.pem'),
      `\uFEFF${key}${good}\r\n# a comment\r\n${good.replaceAll('\n', '\r\n')}`,
    )
    const trusted = await clientToken(home, {}, ['--ca-file', join(home, 'bundle.pem')])
    assert.equal(trusted.exitCode, 0, trusted.stderr)
    assert.match(trusted.stdout, /^ey/)
    // OpenSSL's -trustout form: the certificate, then its trust settings (serverAuth).
    const der = Buffer.from(good.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
    const serverAuth = Buffer.from('300c300a06082b06010505070301', 'hex')
    const body = Buffer.concat([der, serverAuth]).toString('base64').replace(/.{64}/g, '$&\n')
    const trustOut = `-----BEGIN TRUSTED CERTIFICATE-----\n${body}\n-----END TRUSTED CERTIFICATE-----\n`
    await writeFile(join(home, 'trusted.pem'), trustOut)
    const trustedForm = await clientToken(home, {}, ['--ca-file', join(home, 'trusted.pem')])
    assert.equal(trustedForm.exitCode, 0, trustedForm.stderr)
  })
  test("a bad CA file of msal-ts's own is exit 2 before the cache answers; the machine's is left to the request", async () => {
    const home = await tempDir()
    const cacheDir = await tempDir()
    const env = { AZURE_CLIENT_SECRET: sts.defaults.clientSecret, MSAL_TS_CACHE_DIR: cacheDir }
    const app = ['-c', sts.defaults.confidentialClientId, '-a', sts.authority(), '--scope', graph]
    const first = await run(home, ['client-token', ...app, '--ca-file', sts.caFile], { env })
    assert.equal(first.exitCode, 0, first.stderr)
    const missing = join(home, 'missing.pem')
    const bad = ['--ca-file', missing]
    const user = ['-c', sts.defaults.publicClientId, '-a', sts.authority(), '--scope', 'User.Read']
    const login = await run(
      home,
      [
        'login',
        ...user,
        '--ca-file',
        sts.caFile,
        '--username',
        sts.defaults.username,
        '--password-stdin',
      ],
      { env, input: sts.defaults.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    const { home: profileHome, env: profileEnv } = await homeWithProfileCa(missing)
    const refused: [Promise<Awaited<ReturnType<typeof run>>>, string][] = [
      [run(home, ['client-token', ...app, ...bad], { env }), ''],
      [
        run(home, ['client-token', ...app], { env: { ...env, MSAL_TS_CA_FILE: missing } }),
        ' (from MSAL_TS_CA_FILE)',
      ],
      [
        run(profileHome, ['client-token', ...app], { env: { ...env, ...profileEnv } }),
        ' (from profile default)',
      ],
      // A cached user token, which the cache-hit path would otherwise answer.
      [run(home, ['token', ...user, ...bad], { env }), ''],
      // No one signed in: the bad input is named, not a sign-in asked for (exit 3).
      [run(home, ['token', '-c', sts.defaults.publicClientId, '--scope', graph, ...bad]), ''],
    ]
    for (const [running, from] of refused) {
      const result = await running
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.equal(
        result.stderr,
        `msal-ts: ca_file: cannot use the CA file ${missing}${from}: no such file\n`,
      )
    }
    // The cached token still comes without a request when only the machine-wide variable is
    // broken, as other tools' runs would; and accounts, which sends nothing, does not read it.
    const machine = await run(home, ['client-token', ...app], {
      env: { ...env, SSL_CERT_FILE: missing },
    })
    assert.equal(machine.exitCode, 0, machine.stderr)
    assert.match(machine.stdout, /^eyJ/)
    const accounts = await run(profileHome, ['accounts', '-c', 'app', '-o', 'json'], {
      env: profileEnv,
    })
    assert.equal(accounts.exitCode, 0, accounts.stderr)
  })
})
