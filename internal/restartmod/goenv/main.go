// Command goenv prints, one a line, the environment under which the go command builds, vets,
// lints and tests golden and generated projects as gingen's tests do: this checkout's restart
// library published at the version gingen releases (restartmod.Env, which also turns cgo
// off), and GOFLAGS with the projects' build tags (generator.BuildTags) and -trimpath
// (restartmod.TrimpathGOFLAGS), so that the packages compiled for one go command, or for
// golangci-lint and govulncheck, are in the build cache for the others. A value may hold
// spaces (GOFLAGS): read the lines whole (bash: mapfile -t env < <(go run ...); env
// "${env[@]}" CMD), or with -shell, as export lines for the shell's eval:
//
//	(cd golden/myblog-fork && eval "$(go -C ../.. run ./internal/restartmod/goenv -shell)" && go vet ./...)
//
// The Makefile's golden-deps and .ci/run's lint of the golden trees read the build tags and
// flags here, and nowhere else.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/internal/restartmod"
)

func main() {
	shell := flag.Bool("shell", false, "print export lines for the shell's eval, values quoted")
	flag.Parse()
	env, err := restartmod.Env(generator.RestartVersion)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goenv:", err)
		os.Exit(1)
	}
	env = append(env, restartmod.TrimpathGOFLAGS("-tags="+generator.BuildTags))
	for _, e := range env {
		if *shell {
			k, v, _ := strings.Cut(e, "=")
			e = "export " + k + "='" + strings.ReplaceAll(v, "'", `'\''`) + "'"
		}
		fmt.Println(e)
	}
}
