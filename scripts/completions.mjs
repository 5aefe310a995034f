// Writes completions/ from the built binary: the files shipped are exactly what
// `msal-ts completion <shell>` prints (test/cli/completions.test.ts checks it).
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'

const files = { bash: 'msal-ts.bash', zsh: '_msal-ts', fish: 'msal-ts.fish' }
mkdirSync(new URL('../completions', import.meta.url), { recursive: true })
for (const [shell, name] of Object.entries(files)) {
  const script = execFileSync(new URL('../bin/msal-ts', import.meta.url).pathname, [
    'completion',
    shell,
  ])
  writeFileSync(new URL(`../completions/${name}`, import.meta.url), script)
}
