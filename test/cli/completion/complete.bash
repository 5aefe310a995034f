# bash complete.bash <completion script> <word>...: what the script offers for the last word, as
# bash would ask it on Tab (COMP_WORDS and COMP_CWORD set, the function called).
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_msal_ts msal-ts "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
