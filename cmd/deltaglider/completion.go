package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The scripts ask the binary itself (urfave/cli's --generate-bash-completion)
// for command and flag names, and fall back to file names. They never pass a
// literal "--": urfave/cli turns completion off after one, so the command
// would run for real. A lone "-" asks for every flag instead.
const bashCompletion = `# bash completion for deltaglider; load with: source <(deltaglider completion bash)
_deltaglider_complete() {
  local cur w opts
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    if [[ "$w" == "--" ]]; then
      COMPREPLY=($(compgen -f -- "$cur"))
      return 0
    fi
  done
  if [[ "$cur" == -* ]]; then
    [[ "$cur" == "--" ]] && w="-" || w="$cur"
    opts=$("${COMP_WORDS[@]:0:COMP_CWORD}" "$w" --generate-bash-completion 2>/dev/null </dev/null)
  else
    opts=$("${COMP_WORDS[@]:0:COMP_CWORD}" --generate-bash-completion 2>/dev/null </dev/null)
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  [ ${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}
complete -o default -F _deltaglider_complete deltaglider
`

const zshCompletion = `#compdef deltaglider
# zsh completion for deltaglider; load with: source <(deltaglider completion zsh)
_deltaglider() {
  local cur=${words[CURRENT]} w
  local -a prev opts
  prev=("${(@)words[1,CURRENT-1]}")
  if (( ${prev[(Ie)--]} )); then
    _files
    return
  fi
  if [[ $cur == -* ]]; then
    w=$cur
    [[ $cur == -- ]] && w=-
    opts=("${(@f)$("${(@)prev}" "$w" --generate-bash-completion 2>/dev/null </dev/null)}")
  else
    opts=("${(@f)$("${(@)prev}" --generate-bash-completion 2>/dev/null </dev/null)}")
  fi
  opts=(${opts%%:*})  # urfave/cli prints name:usage when it thinks zsh asks
  opts=(${opts:#})
  if (( ${#opts} )); then
    compadd -a opts
  fi
  _files
}
compdef _deltaglider deltaglider
`

func completionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash or zsh)",
		ArgsUsage: "bash|zsh",
		Description: "Example:\n" +
			"  source <(deltaglider completion bash)",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash", "":
				fmt.Fprint(e.stdout, bashCompletion)
			case "zsh":
				fmt.Fprint(e.stdout, zshCompletion)
			default:
				return usageErrorf("completion: unknown shell %q (want bash or zsh)", c.Args().First())
			}
			return nil
		},
	}
}
