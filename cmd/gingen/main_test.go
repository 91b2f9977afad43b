package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gingen/gingen/internal/confighome"
)

func TestMain(m *testing.M) {
	testscript.Main(isolated{m}, map[string]func(){
		"gingen": func() {
			os.Exit(run(os.Args[1:], console{in: os.Stdin, out: os.Stdout, errOut: os.Stderr, getenv: os.Getenv}))
		},
	})
}

// isolated runs the tests with the user's config folder (where gingen keeps its journal key)
// in a temporary folder: no test, nor the gingen binaries they start, reads or writes the
// real one. (Not for the gingen command of the scripts: its environment is the script's.)
type isolated struct{ m *testing.M }

func (i isolated) Run() int {
	_, cleanup, err := confighome.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	defer func() {
		if builtGingen.dir != "" {
			os.RemoveAll(builtGingen.dir)
		}
	}()
	return i.m.Run()
}

// TestScripts runs the CLI sessions in testdata/script: each runs gingen as a user would and
// checks its output, its exit status and the files it leaves.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// The user's config folder, where gingen keeps its journal key: the script's own.
			home := filepath.Join(env.WorkDir, ".home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sign-journal": signJournalCmd,
			"snapshot":     snapshotCmd,
		},
	})
}

// signJournalCmd is the script command "sign-journal FILE": it signs the journal JSON in FILE
// as gingen signs the journals it writes in the project that is the working folder, with the
// script's journal key (made if missing), so that scripts can leave a change gingen would
// have left when killed. It follows the format independently of gingen's code: a change to it
// shows here.
func signJournalCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sign-journal FILE")
	}
	keyFile := filepath.Join(ts.Getenv("XDG_CONFIG_HOME"), "gingen", "journal.key")
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		ts.Check(os.MkdirAll(filepath.Dir(keyFile), 0o700))
		ts.Check(os.WriteFile(keyFile, []byte(hex.EncodeToString(b)+"\n"), 0o600))
	}
	hexKey, err := os.ReadFile(keyFile)
	ts.Check(err)
	key, err := hex.DecodeString(string(bytes.TrimSpace(hexKey)))
	ts.Check(err)
	root, err := filepath.EvalSymlinks(ts.MkAbs("."))
	ts.Check(err)
	name := ts.MkAbs(args[0])
	body, err := os.ReadFile(name)
	ts.Check(err)
	const header = "gingen-journal 1 hmac-sha256="
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(header + root + "\x00"))
	mac.Write(body)
	ts.Check(os.WriteFile(name, []byte(header+hex.EncodeToString(mac.Sum(nil))+"\n"+string(body)), 0o644))
}

// snapshotCmd is the script command "snapshot FILE": it writes to FILE one line per file and
// folder under the working folder (its mode, its path and, for a file, its SHA-256, for a
// link, its target), for cmp to tell whether a command changed anything.
func snapshotCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: snapshot FILE")
	}
	var lines []string
	err := filepath.WalkDir(ts.MkAbs("."), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(ts.MkAbs("."), p)
		line := info.Mode().String() + " " + filepath.ToSlash(rel)
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		lines = append(lines, line)
		return nil
	})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}
