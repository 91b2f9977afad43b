package generator

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// plantedProject is a cloned repository that ships a commit record which would delete
// README.md and conf/app.ini and install a git hook: the attack of issue 18. It returns the
// project's folder.
func plantedProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeJournalTestFile(t, filepath.Join(dir, "README.md"), "# readme\n")
	writeJournalTestFile(t, filepath.Join(dir, "conf/app.ini"), "[app]\n")
	writeJournalTestFile(t, filepath.Join(dir, ".git/HEAD"), "ref: refs/heads/main\n")
	writeJournalTestFile(t, filepath.Join(dir, ".git/hooks/.pre-commit.gingen-0123456789ab"), "#!/bin/sh\necho pwned\n")
	return dir
}

// plantedJournal is the journal plantedProject's commit record holds.
var plantedJournal = journal{
	ID:      "0123456789ab",
	Writes:  []journalWrite{{Path: ".git/hooks/pre-commit", Staged: ".git/hooks/.pre-commit.gingen-0123456789ab", Mode: 0o755, SHA256: sum("#!/bin/sh\necho pwned\n")}},
	Deletes: []string{"README.md", "conf/app.ini"},
}

// TestRecoverRefusesAJournalGingenDidNotWriteHere: a journal that is not signed with this
// user's key for this project is refused whole, whatever it holds, and nothing changes; so is
// one while the user has no key at all.
func TestRecoverRefusesAJournalGingenDidNotWriteHere(t *testing.T) {
	body, err := json.Marshal(plantedJournal)
	if err != nil {
		t.Fatal(err)
	}
	otherKey := make([]byte, 32)
	for name, file := range map[string]func(t *testing.T, dir string) []byte{
		"unsigned": func(*testing.T, string) []byte { return body },
		"signed with another key": func(_ *testing.T, dir string) []byte {
			canon, _ := canonicalRoot(dir)
			return signJournal(otherKey, canon, body)
		},
		"signed for another project": func(t *testing.T, _ string) []byte {
			key, err := journalKey(true)
			if err != nil {
				t.Fatal(err)
			}
			return signJournal(key, "/elsewhere/myblog", body)
		},
		"changed after it was signed": func(t *testing.T, dir string) []byte {
			key, err := journalKey(true)
			if err != nil {
				t.Fatal(err)
			}
			canon, _ := canonicalRoot(dir)
			harmless, _ := json.Marshal(journal{ID: plantedJournal.ID})
			signed := signJournal(key, canon, harmless)
			line, _, _ := strings.Cut(string(signed), "\n")
			return []byte(line + "\n" + string(body))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := plantedProject(t)
			writeJournalTestFile(t, filepath.Join(dir, commitName), string(file(t, dir)))
			before := snapshot(t, dir)
			for _, try := range []func() error{
				func() error { _, err := Recover(dir); return err },
				func() error { _, err := Pending(dir); return err },
				func() error { return applyChange(t.Context(), dir, []File{{Path: "x.txt", Body: []byte("x\n")}}, nil) },
			} {
				var untrusted *UntrustedJournalError
				if err := try(); !errors.As(err, &untrusted) {
					t.Fatalf("got %v, want an UntrustedJournalError", err)
				}
				sameTree(t, before, snapshot(t, dir))
			}
		})
	}
	t.Run("without a journal key", func(t *testing.T) {
		t.Setenv("XDG_CONFIG_HOME", t.TempDir())
		dir := plantedProject(t)
		writeJournalTestFile(t, filepath.Join(dir, commitName), string(body))
		before := snapshot(t, dir)
		_, err := Recover(dir)
		if want := "this user has no journal key"; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Recover = %v, want %q", err, want)
		}
		sameTree(t, before, snapshot(t, dir))
		if _, err := os.Stat(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "gingen")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("reading a journal made the key folder: %v", err)
		}
	})
}

// TestRecoverRefusesASignedJournalOutsideWhatGingenManages: even signed (gingen never writes
// such a journal), a journal that touches .git, leaves the project, or stages under a name
// gingen does not use is refused whole, and nothing changes.
func TestRecoverRefusesASignedJournalOutsideWhatGingenManages(t *testing.T) {
	const id = "0123456789ab"
	write := func(target string) journalWrite {
		return journalWrite{Path: target, Staged: stagedName(target, id), Mode: 0o644, SHA256: sum("x\n")}
	}
	for name, j := range map[string]journal{
		"a write under .git":                 {ID: id, Writes: []journalWrite{write(".git/hooks/pre-commit")}},
		"a write under .GIT":                 {ID: id, Writes: []journalWrite{write(".GIT/hooks/pre-commit")}},
		"a write under a nested .git":        {ID: id, Writes: []journalWrite{write("vendor/x/.Git/config")}},
		"a write under .git. (Windows)":      {ID: id, Writes: []journalWrite{write(".git./config")}},
		"a delete under .git":                {ID: id, Deletes: []string{".git/HEAD"}},
		"a folder under .git":                {ID: id, Dirs: []string{".git/hooks"}},
		"a path out of the project":          {ID: id, Deletes: []string{"../x"}},
		"an unclean path":                    {ID: id, Deletes: []string{"conf/../README.md"}},
		"gingen's own journal":               {ID: id, Deletes: []string{commitName}},
		"a staged name gingen does not make": {ID: id, Writes: []journalWrite{{Path: "README.md", Staged: "conf/app.ini", Mode: 0o644, SHA256: sum("x\n")}}},
		"a staged file of another change":    {ID: id, Writes: []journalWrite{{Path: "README.md", Staged: stagedName("README.md", "ffffffffffff"), Mode: 0o644, SHA256: sum("x\n")}}},
		"an id gingen does not make":         {ID: "../../x", Deletes: []string{"README.md"}},
		"no SHA-256 of a staged file":        {ID: id, Writes: []journalWrite{{Path: "README.md", Staged: stagedName("README.md", id), Mode: 0o644}}},
		"a mode that is not a file's":        {ID: id, Writes: []journalWrite{{Path: "README.md", Staged: stagedName("README.md", id), Mode: os.ModeSymlink | 0o644, SHA256: sum("x\n")}}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := plantedProject(t)
			writeJournalTestFile(t, filepath.Join(dir, ".README.md.gingen-"+id), "x\n")
			writeJournalFile(t, dir, commitName, j)
			before := snapshot(t, dir)
			var untrusted *UntrustedJournalError
			if _, err := Recover(dir); !errors.As(err, &untrusted) || untrusted.Reason == "" {
				t.Fatalf("Recover = %v, want an UntrustedJournalError with its reason", err)
			}
			sameTree(t, before, snapshot(t, dir))
		})
	}
}

// TestRollForwardChecksEachStagedFile: a signed commit record whose staged file was changed,
// or replaced by a link, since gingen wrote it is not carried out: the target keeps its text.
func TestRollForwardChecksEachStagedFile(t *testing.T) {
	const id = "0123456789ab"
	for name, plant := range map[string]func(t *testing.T, staged string){
		"changed content": func(t *testing.T, staged string) { writeJournalTestFile(t, staged, "evil\n") },
		"a link to another file": func(t *testing.T, staged string) {
			if err := os.Symlink("conf/app.ini", staged); err != nil {
				t.Fatal(err)
			}
		},
		"a folder": func(t *testing.T, staged string) {
			if err := os.Mkdir(staged, 0o755); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := plantedProject(t)
			plant(t, filepath.Join(dir, stagedName("README.md", id)))
			writeJournalFile(t, dir, commitName, journal{ID: id, Writes: []journalWrite{{Path: "README.md", Staged: stagedName("README.md", id), Mode: 0o644, SHA256: sum("new\n")}}})
			if _, err := Recover(dir); err == nil {
				t.Fatal("Recover succeeded, want a refusal")
			}
			if b, err := os.ReadFile(filepath.Join(dir, "README.md")); err != nil || string(b) != "# readme\n" {
				t.Errorf("README.md = %q, %v; want it untouched", b, err)
			}
			if _, err := os.Lstat(filepath.Join(dir, commitName)); err != nil {
				t.Errorf("the commit record is gone: %v", err)
			}
		})
	}
}

// TestPendingReportsWithoutActing: what --dry-run asks: the pending journal is named, and
// nothing is rolled back or forward.
func TestPendingReportsWithoutActing(t *testing.T) {
	dir := t.TempDir()
	writeJournalTestFile(t, filepath.Join(dir, ".a.txt.gingen-000000000004"), "new\n")
	writeJournalFile(t, dir, journalName, journal{ID: "000000000004", Writes: []journalWrite{{Path: "a.txt", Staged: ".a.txt.gingen-000000000004", Mode: 0o644, SHA256: sum("new\n")}}})
	before := snapshot(t, dir)
	got, err := Pending(dir)
	if err != nil || got != filepath.Join(dir, journalName) {
		t.Fatalf("Pending = %q, %v; want %s", got, err, filepath.Join(dir, journalName))
	}
	sameTree(t, before, snapshot(t, dir))
	if got, err := Pending(t.TempDir()); got != "" || err != nil {
		t.Errorf("Pending of a clean folder = %q, %v; want nothing", got, err)
	}
}

// TestJournalKeyIsPrivate: the key is made 0600 in a 0700 folder, and one that others could
// read or replace, or that is a link, is refused with the fix.
func TestJournalKeyIsPrivate(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	name := filepath.Join(config, "gingen", "journal.key")
	if _, err := journalKey(false); !errors.Is(err, errNoKey) {
		t.Fatalf("journalKey(false) with no key = %v, want errNoKey", err)
	}
	key, err := journalKey(true)
	if err != nil || len(key) != 32 {
		t.Fatalf("journalKey(true) = %x, %v", key, err)
	}
	for p, want := range map[string]os.FileMode{name: 0o600, filepath.Dir(name): 0o700 | os.ModeDir} {
		if info, err := os.Stat(p); err != nil || info.Mode() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, info.Mode(), err, want)
		}
	}
	if again, err := journalKey(true); err != nil || string(again) != string(key) {
		t.Errorf("second journalKey = %x, %v; want the same key", again, err)
	}
	for _, c := range []struct {
		name, want string
		spoil      func(t *testing.T)
	}{
		{"a key others can read", "chmod 600", func(t *testing.T) { chmod(t, name, 0o644) }},
		{"a folder others can write", "chmod 700", func(t *testing.T) { chmod(t, filepath.Dir(name), 0o777) }},
		{"a link", "remove it", func(t *testing.T) {
			other := filepath.Join(config, "other.key")
			writeJournalTestFile(t, other, strings.Repeat("ab", 32))
			chmod(t, other, 0o600)
			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(other, name); err != nil {
				t.Fatal(err)
			}
		}},
		{"a damaged key", "damaged", func(t *testing.T) {
			if err := os.WriteFile(name, []byte("short\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			saved, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			c.spoil(t)
			_, err = journalKey(true)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("journalKey = %v, want one line saying %q", err, c.want)
			}
			chmod(t, filepath.Dir(name), 0o700)
			_ = os.Remove(name)
			if err := os.WriteFile(name, saved, 0o600); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func chmod(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}

// TestGitignoreHidesGingensJournal: git, in a generated project, ignores the journal files and
// the staged files a change leaves, and shows upgrade's side files, which are for the user.
func TestGitignoreHidesGingensJournal(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	root := newTestProjectOn(t, DBSQLite)
	if out, err := exec.Command(git, "-C", root, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	for name, ignored := range map[string]bool{
		journalName:                           true,
		commitName:                            true,
		journalTemp:                           true,
		stagedName("main.go", "0123456789ab"): true,
		stagedName("conf/app.ini", "abcdef012345"): true,
		stagedName(".gitignore", "abcdef012345"):   true,
		"main.go" + SideFileSuffix:                 false,
		"conf/app.ini" + OldFileSuffix:             false,
		".gitignore" + SideFileSuffix:              false,
		"main.go":                                  false,
	} {
		cmd := exec.Command(git, "-C", root, "check-ignore", "-q", "--no-index", name)
		err := cmd.Run()
		var exit *exec.ExitError
		shown := errors.As(err, &exit) && exit.ExitCode() == 1 // check-ignore's "not ignored"
		switch {
		case err != nil && !shown:
			t.Errorf("git check-ignore %s: %v", name, err)
		case shown && ignored:
			t.Errorf("git shows %s; want it ignored", name)
		case err == nil && !ignored:
			t.Errorf("git ignores %s; want it shown", name)
		}
	}
}
