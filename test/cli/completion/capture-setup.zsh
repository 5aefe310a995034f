# Sourced in the interactive zsh that capture.zsh drives: loads the script and prints what compadd is given.
PROMPT='' RPROMPT=''
autoload -Uz compinit
compinit -u -D
source $1
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a found
  builtin compadd -A found "$@"
  local hit
  for hit in $found; do print -r -- "<candidate>$hit"; done
  builtin compadd "$@"
}
_capture_done() { print -r -- '<done>'; exit }
comppostfuncs=(_capture_done)
bindkey '^I' complete-word
