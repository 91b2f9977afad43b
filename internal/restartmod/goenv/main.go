// Command goenv prints, one a line, the environment under which the go command builds golden
// and generated projects with this checkout's restart library published at the version
// gingen releases (restartmod.Env), for the shell:
//
//	(cd golden/myblog-fork && env $(go run ../../internal/restartmod/goenv) go vet ./...)
package main

import (
	"fmt"
	"os"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/internal/restartmod"
)

func main() {
	env, err := restartmod.Env(generator.RestartVersion)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goenv:", err)
		os.Exit(1)
	}
	for _, e := range env {
		fmt.Println(e)
	}
}
