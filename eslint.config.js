import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

const noProcessExit = {
  object: 'process',
  property: 'exit',
  message: 'the engine throws its errors; only the CLI ends the process',
}
const noProcessEnv = {
  object: 'process',
  property: 'env',
  message: 'take the environment as an option; only src/core/clients/ defaults to the process one',
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      curly: ['error', 'all'],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // style.md: `verify(false)` says nothing at the call; `{ verify: false }` does.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            ':matches(CallExpression, NewExpression) > Literal.arguments[raw=/^(true|false)$/]',
          message: 'pass a named option ({ name: true }), not a positional boolean',
        },
      ],
    },
  },
  {
    // The engine is a library: it never ends the process, and only the public classes of clients/
    // fall back to the process environment; below them the caller's environment is passed in.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/clients/**'],
    rules: { 'no-restricted-properties': ['error', noProcessExit, noProcessEnv] },
  },
  {
    files: ['src/core/clients/**/*.ts'],
    rules: { 'no-restricted-properties': ['error', noProcessExit] },
  },
  {
    // node:test's test() returns a promise the runner itself awaits.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: globals.node,
    },
  },
)
