import { Argument, Command } from 'commander'
import type { CommandDeps } from './shared/deps.js'
import { bashScript } from './completion/bash.js'
import { fishScript } from './completion/fish.js'
import { commandSpec, type Shell, shells } from './completion/spec.js'
import { zshScript } from './completion/zsh.js'

const examples = `
Examples:
  # bash: now, or for every shell (~/.bashrc)
  source <(msal-ts completion bash)
  msal-ts completion bash > ~/.local/share/bash-completion/completions/msal-ts

  # zsh: a file on $fpath
  msal-ts completion zsh > "\${fpath[1]}/_msal-ts"

  # fish
  msal-ts completion fish > ~/.config/fish/completions/msal-ts.fish

Commands, options and known option values complete; --account completes the usernames in the
token cache (read locally, no network). The same scripts ship in the package's completions/.`

const scripts = { bash: bashScript, zsh: zshScript, fish: fishScript }

/** The whole program, every command loaded, which the scripts are made from. */
export interface CompletionOptions {
  program: () => Promise<Command>
}

export function completionCommand({ io }: CommandDeps, options: CompletionOptions): Command {
  return new Command('completion')
    .description('print a completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(shells))
    .addHelpText('after', examples)
    .action(async (shell: Shell) => {
      io.stdout.write(scripts[shell](commandSpec(await options.program())))
    })
}
