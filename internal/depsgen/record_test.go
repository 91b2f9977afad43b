package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeTidy stands in for (*project).keys and generate: keys made from the combination's
// name, and from changed[name] for the variant it names; templates made from the name and the
// checkout's restart library, as a tidy would. It records the combinations it tidied.
type fakeTidy struct {
	mu      sync.Mutex
	asked   []string
	changed map[string]int
}

func (f *fakeTidy) keys(_ *project, c Combination) ([4]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys [4]string
	for v, name := range variantNames() {
		text := c.Key() + " " + name
		if w, ok := f.changed[c.Key()]; ok && w == v {
			text += " changed"
		}
		keys[v] = fmt.Sprintf("%x", sha256.Sum256([]byte(text)))
	}
	return keys, nil
}

func (f *fakeTidy) generate(p *project, c Combination) (mod, sum []byte, err error) {
	f.mu.Lock()
	f.asked = append(f.asked, c.Key())
	f.mu.Unlock()
	mod = []byte("module {{.Module}}\n\ngo {{.GoVersion}}\n\nrequire example.com/" + c.Key() + " v1.0.0\n")
	sum = []byte("example.com/" + c.Key() + " v1.0.0 h1:x=\n" + strings.Join(p.restartSum, "\n") + "\nzz.example/last v1.0.0 h1:y=\n")
	return mod, sum, nil
}

// take returns the combinations asked for since the last call, sorted.
func (f *fakeTidy) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Sorted(slices.Values(f.asked))
	f.asked = nil
	return out
}

// TestCheckTidiesOnlyWhatChanged runs depsgen on two combinations with fake keys and tidy
// (fakeTidy; TestKeysFollowTemplatesAndPins has the real keys), writing into a temporary
// folder: a check after writing tidies nothing; a combination whose inputs changed is tidied;
// a hand-edited go.mod.tmpl or go.sum.tmpl (the restart library's lines included) is tidied
// and fails though its inputs are unchanged; a record missing, corrupt or ignored (-full)
// means every combination is tidied, and the check passes when the templates are current.
func TestCheckTidiesOnlyWhatChanged(t *testing.T) {
	combos := []Combination{{"fork", "sqlite", "none"}, {"systemd", "postgres", "jwt"}}
	a, b := combos[0].Key(), combos[1].Key()
	out := t.TempDir()
	fake := &fakeTidy{changed: map[string]int{}}
	var log []string
	runWith := func(check, full bool) error {
		log = nil
		return run(config{root: "../..", out: out, check: check, full: full, combinations: combos, keys: fake.keys, generate: fake.generate,
			logf: func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }})
	}
	logged := func(t *testing.T, want string) {
		t.Helper()
		if !slices.ContainsFunc(log, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("the log lacks %q:\n%s", want, strings.Join(log, "\n"))
		}
	}
	tmpl := func(c, name string) string { return filepath.Join(out, depsDir, c, name) }
	edit := func(t *testing.T, path string, f func(string) string) (restore func()) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(f(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
		return func() {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("a check without a record tidies everything", func(t *testing.T) {
		if err := runWith(true, false); err == nil || !strings.Contains(err.Error(), "out of date") {
			t.Fatalf("check of nothing written: %v, want out of date", err)
		}
		if got := fake.take(); !slices.Equal(got, []string{a, b}) {
			t.Errorf("tidied %v, want both", got)
		}
		logged(t, "no usable record")
	})
	t.Run("writing records every combination", func(t *testing.T) {
		if err := runWith(false, false); err != nil {
			t.Fatal(err)
		}
		if got := fake.take(); !slices.Equal(got, []string{a, b}) {
			t.Errorf("tidied %v, want both", got)
		}
		recs, err := readRecord(filepath.Join(out, recordFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 {
			t.Errorf("record of %d combinations, want 2", len(recs))
		}
	})
	t.Run("a check of what was written tidies nothing", func(t *testing.T) {
		if err := runWith(true, false); err != nil {
			t.Fatal(err)
		}
		if got := fake.take(); len(got) != 0 {
			t.Errorf("tidied %v, want none", got)
		}
		logged(t, "2 of 2 combinations unchanged, 0 tidied")
	})
	t.Run("a hand-edited go.mod.tmpl fails", func(t *testing.T) {
		defer edit(t, tmpl(a, "go.mod.tmpl"), func(s string) string { return s + "require example.com/extra v1.0.0\n" })()
		if err := runWith(true, false); err == nil || !strings.Contains(err.Error(), tmpl(a, "go.mod.tmpl")) {
			t.Fatalf("check: %v, want %s out of date", err, tmpl(a, "go.mod.tmpl"))
		}
		if got := fake.take(); !slices.Equal(got, []string{a}) {
			t.Errorf("tidied %v, want %s only", got, a)
		}
		logged(t, a+": go.mod.tmpl is not what depsgen made of these inputs")
	})
	t.Run("a hand-edited go.sum.tmpl fails", func(t *testing.T) {
		defer edit(t, tmpl(b, "go.sum.tmpl"), func(s string) string { return strings.Replace(s, "h1:y=", "h1:z=", 1) })()
		if err := runWith(true, false); err == nil || !strings.Contains(err.Error(), tmpl(b, "go.sum.tmpl")) {
			t.Fatalf("check: %v, want %s out of date", err, tmpl(b, "go.sum.tmpl"))
		}
		if got := fake.take(); !slices.Equal(got, []string{b}) {
			t.Errorf("tidied %v, want %s only", got, b)
		}
	})
	t.Run("other hashes of the restart library in go.sum.tmpl fail", func(t *testing.T) {
		// The record hashes go.sum.tmpl without them: they are compared with the checkout's.
		defer edit(t, tmpl(a, "go.sum.tmpl"), func(s string) string {
			return strings.Replace(s, "github.com/gingen/gingen/restart v0.1.0 h1:", "github.com/gingen/gingen/restart v0.1.0 h1:AAAA", 1)
		})()
		if err := runWith(true, false); err == nil || !strings.Contains(err.Error(), tmpl(a, "go.sum.tmpl")) {
			t.Fatalf("check: %v, want %s out of date", err, tmpl(a, "go.sum.tmpl"))
		}
		if got := fake.take(); !slices.Equal(got, []string{a}) {
			t.Errorf("tidied %v, want %s only", got, a)
		}
		logged(t, "lines of the restart library are not the checkout's")
	})
	t.Run("changed inputs tidy their combination only", func(t *testing.T) {
		fake.changed[b] = 2
		defer delete(fake.changed, b)
		if err := runWith(true, false); err != nil {
			t.Fatal(err)
		}
		if got := fake.take(); !slices.Equal(got, []string{b}) {
			t.Errorf("tidied %v, want %s only", got, b)
		}
		logged(t, b+": what tidy reads of its tracing project changed")
		logged(t, "1 of 2 combinations unchanged, 1 tidied")
		logged(t, "but "+recordFile+" is out of date for 1 combination(s): go run ./internal/depsgen rewrites it")
	})
	for name, corrupt := range map[string]func(string) string{
		"an empty record":            func(string) string { return "" },
		"a truncated record":         func(s string) string { return s[:len(s)-10] },
		"a record of another format": func(s string) string { return strings.ReplaceAll(s, " go.sum=", " sum=") },
		"a record with a line twice": func(s string) string { return s + s[strings.Index(s, "\n"+a)+1:] },
		"a record naming no combination": func(s string) string {
			return strings.Replace(s, a+" ", "nosuch-combination ", 1)
		},
		"a record with a key too long": func(s string) string {
			return strings.Replace(s, b+" plain=", b+" plain=0", 1)
		},
	} {
		t.Run(name+" tidies everything", func(t *testing.T) {
			defer edit(t, filepath.Join(out, recordFile), corrupt)()
			if err := runWith(true, false); err != nil {
				t.Fatal(err)
			}
			if got := fake.take(); !slices.Equal(got, []string{a, b}) {
				t.Errorf("tidied %v, want both", got)
			}
			logged(t, "no usable record")
		})
	}
	t.Run("a missing record tidies everything", func(t *testing.T) {
		restore := edit(t, filepath.Join(out, recordFile), func(s string) string { return s })
		if err := os.Remove(filepath.Join(out, recordFile)); err != nil {
			t.Fatal(err)
		}
		defer restore()
		if err := runWith(true, false); err != nil {
			t.Fatal(err)
		}
		if got := fake.take(); !slices.Equal(got, []string{a, b}) {
			t.Errorf("tidied %v, want both", got)
		}
	})
	t.Run("-full tidies everything", func(t *testing.T) {
		if err := runWith(true, true); err != nil {
			t.Fatal(err)
		}
		if got := fake.take(); !slices.Equal(got, []string{a, b}) {
			t.Errorf("tidied %v, want both", got)
		}
		logged(t, "0 of 2 combinations unchanged, 2 tidied")
		if slices.ContainsFunc(log, func(l string) bool { return strings.Contains(l, "out of date") }) {
			t.Errorf("a current record reported stale:\n%s", strings.Join(log, "\n"))
		}
		// -full still says where the record is out of date.
		fake.changed[a] = 0
		defer delete(fake.changed, a)
		if err := runWith(true, true); err != nil {
			t.Fatal(err)
		}
		fake.take()
		logged(t, "but "+recordFile+" is out of date for 1 combination(s)")
	})
}

func TestRecordRoundTrips(t *testing.T) {
	h := func(c byte) string { return strings.Repeat(string(c), 64) }
	recs := map[string]record{
		"systemd-mysql-jwt": {keys: [4]string{h('1'), h('2'), h('3'), h('4')}, mod: h('5'), sum: h('6')},
		"fork-sqlite-none":  {keys: [4]string{h('a'), h('b'), h('c'), h('d')}, mod: h('e'), sum: h('f')},
	}
	text := formatRecord(recs)
	got, err := parseRecord(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["fork-sqlite-none"] != recs["fork-sqlite-none"] || got["systemd-mysql-jwt"] != recs["systemd-mysql-jwt"] {
		t.Fatalf("round trip: %v, want %v", got, recs)
	}
	if i, j := strings.Index(string(text), "\nfork-"), strings.Index(string(text), "\nsystemd-"); i < 0 || j < i {
		t.Errorf("lines not sorted:\n%s", text)
	}
	for _, bad := range []string{
		strings.Replace(string(text), h('1'), strings.ToUpper(h('a')), 1),
		strings.Replace(string(text), h('1'), h('1')[:63], 1),
		strings.Replace(string(text), " events=", " tracing=", 1),
		strings.Replace(string(text), " go.sum="+h('6'), "", 1),
		strings.Replace(string(text), " go.sum="+h('6'), " go.sum="+h('6')+" extra", 1),
		strings.Replace(string(text), "fork-sqlite-none ", "fork-sqlite-none  ", 1),
	} {
		if _, err := parseRecord([]byte(bad)); err == nil {
			t.Errorf("parseRecord accepted\n%s", bad)
		}
	}
}
