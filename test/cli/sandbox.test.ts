/**
 * `npm run sandbox` as the README has a newcomer use it: start it, paste its export lines into a
 * shell, run the commands it suggests with the built msal-ts, stop it with Ctrl-C.
 */
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { execa } from 'execa'
import { cliEnv, tempDir } from './harness.js'
import { recipe } from './readme.js'

const root = resolve(import.meta.dirname, '../..')

test('the sandbox prints exports and commands that get tokens from it, and stops on SIGINT', async () => {
  const sandbox = execa(process.execPath, ['--import', 'tsx', 'scripts/sandbox.ts'], {
    cwd: root,
    reject: false,
    stdin: 'ignore',
  })
  let stdout = ''
  const printed = new Promise<void>((resolveOutput, reject) => {
    sandbox.stdout.setEncoding('utf8')
    sandbox.stdout.on('data', (chunk: string) => {
      stdout += chunk
      if (/\nThen try:\n(?: {2}.+\n){3}/.test(stdout)) {
        resolveOutput()
      }
    })
    void sandbox.then(() => reject(new Error(`the sandbox ended early:\n${stdout}`)))
  })
  try {
    await printed
    const exports = stdout.split('\n').filter((line) => line.startsWith('export '))
    assert.deepEqual(
      exports.map((line) => /^export (\w+)=/.exec(line)?.[1]),
      [
        'PATH',
        'MSAL_TS_AUTHORITY',
        'MSAL_TS_CA_FILE',
        'MSAL_TS_CLIENT_ID',
        'MSAL_TS_CACHE_DIR',
        'MSAL_TS_CONFIG_DIR',
        'SANDBOX_CONFIDENTIAL_CLIENT_ID',
        'SANDBOX_CLIENT_SECRET',
        'SANDBOX_USERNAME',
        'SANDBOX_PASSWORD',
      ],
    )
    const commands = (/\nThen try:\n((?: {2}.+\n){3})/.exec(stdout)?.[1] ?? '')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.trim())
    // The README's "Your first token" is these commands, so following it runs what this test runs.
    const readmeCommands = recipe('first-token')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/\s+#.*$/, ''))
    assert.deepEqual(readmeCommands, commands)
    const home = await tempDir()
    // PATH from the harness, without the repository's bin: the export line must bring msal-ts.
    const shell = async (command: string) =>
      execa('bash', ['-c', `set -eo pipefail\n${exports.join('\n')}\n${command}`], {
        env: cliEnv(home, { MSAL_TS_CACHE_DIR: undefined }),
        extendEnv: false,
        reject: false,
      })
    const [login, token, clientToken] = await commands.reduce<
      Promise<Awaited<ReturnType<typeof shell>>[]>
    >(async (done, command) => [...(await done), await shell(command)], Promise.resolve([]))
    assert.equal(login?.exitCode, 0, String(login?.stderr))
    assert.match(String(login?.stderr), /^Signed in as alice@contoso\.onmicrosoft\.com$/m)
    assert.equal(token?.exitCode, 0, String(token?.stderr))
    const json = JSON.parse(String(token?.stdout)) as Record<string, unknown>
    assert.equal(json['token_type'], 'Bearer')
    assert.equal(json['token_source'], 'cache')
    assert.equal(clientToken?.exitCode, 0, String(clientToken?.stderr))
    assert.match(String(clientToken?.stdout), /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n?$/)
  } finally {
    sandbox.kill('SIGINT')
  }
  const stopped = await sandbox
  assert.equal(stopped.exitCode, 0)
  assert.match(String(stopped.stdout), /The sandbox identity provider has stopped\.$/)
})
