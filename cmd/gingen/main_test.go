package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gingen": func() {
			os.Exit(run(os.Args[1:], console{in: os.Stdin, out: os.Stdout, errOut: os.Stderr, getenv: os.Getenv}))
		},
	})
}

// TestScripts runs the CLI sessions in testdata/script: each runs gingen as a user would and
// checks its output, its exit status and the files it leaves.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
