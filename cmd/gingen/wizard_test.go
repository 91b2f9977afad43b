//go:build unix

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/hinshun/vt10x"

	"github.com/gingen/gingen/generator"
)

// Keys as a terminal sends them.
const (
	keyEnter = "\r"
	keyDown  = "\x1b[B"
	keyCtrlC = "\x03"
	// cursorQuery is the terminal query survey sends once it reads keys itself.
	cursorQuery = "\x1b[6n"
)

// builtGingen is the real binary, built once for every test of the package that runs it
// (buildGingen) in a folder isolated.Run removes when the tests end.
var builtGingen struct {
	once      sync.Once
	dir, path string
	err       error
}

// buildGingen returns the real binary, built the first time a test asks for it.
func buildGingen(t *testing.T) string {
	t.Helper()
	builtGingen.once.Do(func() {
		if builtGingen.dir, builtGingen.err = os.MkdirTemp("", "gingen-bin-"); builtGingen.err != nil {
			return
		}
		builtGingen.path = filepath.Join(builtGingen.dir, "gingen")
		if out, err := exec.Command("go", "build", "-o", builtGingen.path, ".").CombinedOutput(); err != nil {
			builtGingen.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if builtGingen.err != nil {
		t.Fatal(builtGingen.err)
	}
	return builtGingen.path
}

// session is the binary running on a pseudo-terminal, driven as a user would drive it. The
// terminal is emulated by vt10x, which answers survey's cursor-position queries.
type session struct {
	t        *testing.T
	console  *expect.Console
	keyboard io.Writer // what is typed into the terminal
	cmd      *exec.Cmd
	output   strings.Builder // everything the binary printed, escape sequences included
}

// start runs bin with args in dir on a new pseudo-terminal. colour false sets NO_COLOR.
func start(t *testing.T, bin, dir string, colour bool, args ...string) *session {
	t.Helper()
	// Everything typed into the terminal goes through one pipe, in order: the emulator's
	// answers to survey's cursor-position queries, written while the query is read, and the
	// keys the test sends after that. So an answer always comes before the next keys, as on a
	// real terminal, and survey never takes a key for part of an answer.
	typed, keyboard := io.Pipe()
	term := vt10x.New(vt10x.WithWriter(keyboard), vt10x.WithSize(120, 40))
	console, err := expect.NewConsole(
		expect.WithStdout(term),
		expect.WithStdin(typed),
		expect.WithCloser(keyboard, typed),
		expect.WithDefaultTimeout(30*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, console: console, keyboard: keyboard}
	t.Cleanup(func() { _ = console.Close() })

	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = console.Tty(), console.Tty(), console.Tty()
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	s.cmd.Env = append(withoutVars(os.Environ(), "NO_COLOR", "TERM", "CI"), "TERM=xterm")
	if !colour {
		s.cmd.Env = append(s.cmd.Env, "NO_COLOR=1")
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	// The child holds the terminal now; keeping our copy open would hide its exit.
	if err := console.Tty().Close(); err != nil {
		t.Fatal(err)
	}
	return s
}

// expect waits for text on the terminal and returns what came before it.
func (s *session) expect(text string) string {
	s.t.Helper()
	out, err := s.console.ExpectString(text)
	s.output.WriteString(out)
	if err != nil {
		s.t.Fatalf("waiting for %q: %v\nthe terminal so far:\n%s", text, err, s.output.String())
	}
	return out
}

// send types keys.
func (s *session) send(keys string) {
	s.t.Helper()
	if _, err := io.WriteString(s.keyboard, keys); err != nil {
		s.t.Fatal(err)
	}
}

// line answers a line prompt (survey's Input and Confirm) with text and Enter, typed as soon
// as the prompt shows. A line prompt first asks the terminal for its size and the cursor's
// place and reads the answers; keys typed before an answer are kept, but keys that arrive
// right behind one can be lost (survey reads past the answer and drops the rest). The
// terminal answers only when the test reads the query, after these keys: they are kept.
func (s *session) line(prompt, text string) string {
	s.t.Helper()
	before := s.expect(prompt)
	s.send(text + keyEnter)
	return before
}

// pick answers a list prompt (survey's Select and MultiSelect): keys (arrows, letters to
// filter, space to mark), then Enter.
func (s *session) pick(prompt, keys string) string {
	s.t.Helper()
	before := s.expect(prompt)
	s.send(keys + keyEnter)
	return before
}

// interrupt presses Ctrl-C at a line prompt. It waits for the prompt's first query, sent
// once the terminal is in raw mode (before that, Ctrl-C would be a signal from the
// terminal, not a key survey reads), then presses Ctrl-C until the program ends: a press
// that arrives right behind an answer is lost (see line), the next one is read.
func (s *session) interrupt(prompt string) {
	s.t.Helper()
	s.expect(prompt)
	s.expect(cursorQuery)
	done := make(chan struct{})
	s.t.Cleanup(func() { close(done) })
	go func() {
		for range 100 {
			if _, err := io.WriteString(s.keyboard, keyCtrlC); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
}

// wait reads the rest of the output and returns the exit code.
func (s *session) wait() (string, int) {
	s.t.Helper()
	out, err := s.console.ExpectEOF()
	s.output.WriteString(out)
	if err != nil {
		s.t.Fatalf("waiting for the end: %v\n%s", err, s.output.String())
	}
	err = s.cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &exit):
		return out, exit.ExitCode()
	}
	s.t.Fatal(err)
	return out, -1
}

func withoutVars(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func readManifest(t *testing.T, path string) generator.Manifest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := generator.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWizard(t *testing.T) {
	bin := buildGingen(t)

	t.Run("a full run asks for every value, rejects bad ones as typed, and prints the command to repeat it", func(t *testing.T) {
		work := t.TempDir()
		s := start(t, bin, work, true, "new")
		s.line("Project name:", "1blog")
		s.expect(`invalid project name "1blog": it starts with a digit`)
		s.line("Project name:", "myblog")
		s.line("Go module path:", "github.com/acme/myblog")
		s.expect("Restart strategy:")
		s.expect("stable PID") // each strategy says when to pick it
		s.send(keyDown + keyEnter)
		s.pick("Database:", "")
		s.pick("Authentication of /api/v1:", "")
		s.line("HTTP port:", "70000")
		s.expect("port 70000 is out of range")
		s.line("HTTP port:", "9000")
		summary := s.line("Generate it?", "y")
		for _, want := range []string{"module    github.com/acme/myblog", "strategy  supervisor", "port      9000"} {
			if !strings.Contains(summary, want) {
				t.Errorf("the summary lacks %q:\n%s", want, summary)
			}
		}
		// On a terminal, actions are coloured: create in bold green.
		s.expect("\x1b[32;1mcreate\x1b[0;22m  myblog/main.go")
		s.expect("Next steps:")
		s.expect("The same without questions:")
		s.expect("gingen new myblog --module github.com/acme/myblog --strategy supervisor --db sqlite --auth none --port 9000")
		if _, code := s.wait(); code != 0 {
			t.Fatalf("exit code %d\n%s", code, s.output.String())
		}
		m := readManifest(t, filepath.Join(work, "myblog", generator.ManifestName))
		if m.Module != "github.com/acme/myblog" || m.Strategy != "supervisor" || m.Port != 9000 || m.DB != "sqlite" {
			t.Errorf("gingen.yaml = %+v, want the wizard's answers", m)
		}
	})

	t.Run("values given by flag are not asked again", func(t *testing.T) {
		work := t.TempDir()
		s := start(t, bin, work, false, "new", "shop", "--strategy", "systemd", "--db", "sqlite", "--auth", "none", "--port", "9100")
		asked := s.line("Go module path:", "") // the default: the name
		asked += s.line("Generate it?", "")
		for _, skipped := range []string{"Project name", "Restart strategy", "Database", "Authentication", "HTTP port"} {
			if strings.Contains(asked, skipped) {
				t.Errorf("asked %q although its value was given:\n%s", skipped, asked)
			}
		}
		out, code := s.wait()
		if code != 0 {
			t.Fatalf("exit code %d\n%s", code, s.output.String())
		}
		if strings.Contains(out, "\x1b[32") {
			t.Errorf("NO_COLOR is set, but the output has colours:\n%q", out)
		}
		if !strings.Contains(out, "gingen new shop --module shop --strategy systemd") {
			t.Errorf("no equivalent command line:\n%s", out)
		}
		if m := readManifest(t, filepath.Join(work, "shop", generator.ManifestName)); m.Strategy != "systemd" || m.Port != 9100 || m.Module != "shop" {
			t.Errorf("gingen.yaml = %+v", m)
		}
	})

	t.Run("with every value given it asks nothing, even on a terminal", func(t *testing.T) {
		work := t.TempDir()
		s := start(t, bin, work, false, "new", "quiet", "--module", "quiet", "--strategy", "fork", "--db", "sqlite", "--auth", "none", "--port", "8000")
		out, code := s.wait()
		if code != 0 || strings.Contains(out, "?") || !strings.Contains(out, "create  quiet/main.go") {
			t.Fatalf("exit code %d, output:\n%s", code, out)
		}
		if strings.Contains(out, "without questions") {
			t.Errorf("printed an equivalent command although nothing was asked:\n%s", out)
		}
	})

	t.Run("a bad flag value fails before any question", func(t *testing.T) {
		work := t.TempDir()
		s := start(t, bin, work, false, "new", "--strategy", "endless")
		out, code := s.wait()
		if code != exitFailure || strings.Contains(out, "Project name") || !strings.Contains(out, `unknown strategy "endless"`) {
			t.Errorf("exit code %d, output:\n%s", code, out)
		}
	})

	t.Run("--yes takes the defaults on a terminal", func(t *testing.T) {
		work := t.TempDir()
		s := start(t, bin, work, false, "new", "yes", "--yes")
		out, code := s.wait()
		if code != 0 || strings.Contains(out, "?") {
			t.Fatalf("exit code %d, output:\n%s", code, out)
		}
		if m := readManifest(t, filepath.Join(work, "yes", generator.ManifestName)); m.Strategy != generator.DefaultStrategy || m.Port != generator.DefaultPort {
			t.Errorf("gingen.yaml = %+v, want the defaults", m)
		}
	})

	for _, at := range []string{"Project name:", "Generate it?"} {
		t.Run("Ctrl-C at "+at+" exits 130 and writes nothing", func(t *testing.T) {
			work := t.TempDir()
			s := start(t, bin, work, false, "new")
			if at == "Generate it?" {
				s.line("Project name:", "myblog")
				s.line("Go module path:", "")
				s.pick("Restart strategy:", "")
				s.pick("Database:", "")
				s.pick("Authentication of /api/v1:", "")
				s.line("HTTP port:", "")
			}
			s.interrupt(at)
			out, code := s.wait()
			if code != exitInterrupted {
				t.Errorf("exit code %d, want %d", code, exitInterrupted)
			}
			if !strings.Contains(out, "gingen: interrupted; nothing written") {
				t.Errorf("no interruption message:\n%s", out)
			}
			if entries, _ := os.ReadDir(work); len(entries) > 0 {
				t.Errorf("wrote %v", entries)
			}
		})
	}

	t.Run("add resource with no field asks for fields one by one, checked like field:type", func(t *testing.T) {
		work := t.TempDir()
		if out, err := exec.Command(bin, "new", "blog", "--dir", work).CombinedOutput(); err != nil {
			t.Fatalf("gingen new: %v\n%s", err, out)
		}
		s := start(t, bin, filepath.Join(work, "blog"), false, "add", "resource", "article")
		s.line("Field 1 name (empty to finish):", "Title")
		s.expect(`invalid field name "Title"`)
		s.line("Field 1 name (empty to finish):", "title")
		s.pick("Type of title:", "")      // string, the first
		s.pick("Modifiers of title", " ") // unique, the first
		s.line("Field 2 name (empty to finish):", "published")
		s.pick("Type of published:", "bool")  // typing filters the list
		s.pick("Modifiers of published", " ") // unique: refused for a bool; the field is asked again
		s.expect("a unique bool allows only two rows")
		s.line("Field 2 name (empty to finish):", "published")
		s.pick("Type of published:", "bool")
		s.pick("Modifiers of published", "")
		s.line("Field 3 name (empty to finish):", "")
		s.expect("create  models/article.go")
		s.expect("The same without questions:")
		s.expect("gingen add resource article title:string:unique published:bool")
		if _, code := s.wait(); code != 0 {
			t.Fatalf("exit code %d\n%s", code, s.output.String())
		}
		m := readManifest(t, filepath.Join(work, "blog", generator.ManifestName))
		if len(m.Resources) != 1 || len(m.Resources[0].Fields) != 2 || m.Resources[0].Fields[0].String() != "title:string:unique" {
			t.Errorf("gingen.yaml resources = %+v", m.Resources)
		}
	})
}

// TestNoTerminalNeverPrompts runs gingen with a stdin pipe that never closes, as a CI job
// or a pipeline might: it must not wait for an answer.
func TestNoTerminalNeverPrompts(t *testing.T) {
	bin := buildGingen(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in the combined output
	}{
		{"a name and no flag takes the defaults", []string{"new", "myblog"}, 0, "create  myblog/main.go"},
		{"no name is a usage error naming it", []string{"new"}, exitUsage, "missing project NAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			// An *os.File, so that the child reads the pipe itself; the write end stays open.
			stdin, never, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = never.Close() })
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir, cmd.Stdin = work, stdin
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			_ = stdin.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("gingen %v hangs without a terminal; output so far:\n%s", tc.args, out.String())
			}
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || !strings.Contains(out.String(), tc.want) || strings.Contains(out.String(), "?") {
				t.Errorf("exit code %d (want %d), output:\n%s", code, tc.code, out.String())
			}
		})
	}
}
