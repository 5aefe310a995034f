import assert from 'node:assert/strict'

/**
 * Asserts that `call` fails (throwing or rejecting) with a UsageError as the library promises one:
 * a snake_case code and a message of one line, naming `names` when given. The class is passed in:
 * the source's and the built package's are two classes.
 */
export async function assertUsageError(
  usageError: abstract new (...args: never[]) => Error & { code: string },
  call: () => unknown,
  names?: string,
): Promise<void> {
  await assert.rejects(
    async () => {
      await call()
    },
    (error: unknown) => {
      assert.ok(error instanceof usageError, `got ${String(error)}`)
      assert.match(error.code, /^[a-z_]+$/)
      assert.ok(error.message !== '' && !error.message.includes('\n'))
      if (names !== undefined) {
        assert.ok(error.message.includes(names), error.message)
      }
      return true
    },
  )
}
