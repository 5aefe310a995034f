# zsh -f capture.zsh <completion script> <command line>: each candidate zsh offers on Tab, one a line.
zmodload zsh/zpty
local setup=${0:A:h}/capture-setup.zsh
zpty shell zsh -f -i
zpty -w shell "source ${(q)setup} ${(q)1}"
zpty -w shell "$2"$'\t'
local line
while zpty -r shell line; do
  [[ $line == *'<done>'* ]] && break
  [[ $line == *'<candidate>'* ]] && print -r -- "${${line##*<candidate>}%%$'\r'*}"
done
