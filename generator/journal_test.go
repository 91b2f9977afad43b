package generator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeJournalTestFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeJournalFile writes j as the journal file name of the project at dir, signed as gingen
// signs it on this machine (the test's config folder: see TestMain).
func writeJournalFile(t *testing.T, dir, name string, j journal) {
	t.Helper()
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	key, err := journalKey(true)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := canonicalRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	writeJournalTestFile(t, filepath.Join(dir, name), string(signJournal(key, canon, b)))
}

// sum is the SHA-256 of s, in hex, as a journal records it.
func sum(s string) string {
	b := sha256.Sum256([]byte(s))
	return hex.EncodeToString(b[:])
}

func TestRecoverRollsACommittedChangeForward(t *testing.T) {
	dir := t.TempDir()
	writeJournalTestFile(t, filepath.Join(dir, "a.txt"), "old\n")
	writeJournalTestFile(t, filepath.Join(dir, "gone.txt"), "bye\n")
	writeJournalTestFile(t, filepath.Join(dir, "sub/.b.txt.gingen-000000000001"), "new b\n")
	// a.txt's staged file was already moved in: only b.txt and the deletion are left.
	writeJournalFile(t, dir, commitName, journal{
		ID:      "000000000001",
		Writes:  []journalWrite{{Path: "a.txt", Staged: ".a.txt.gingen-000000000001", Mode: 0o644, SHA256: sum("old\n")}, {Path: "sub/b.txt", Staged: "sub/.b.txt.gingen-000000000001", Mode: 0o644, SHA256: sum("new b\n")}},
		Deletes: []string{"gone.txt"},
		Dirs:    []string{"sub"},
	})
	rec, err := Recover(dir)
	if err != nil || rec != RecoveryForward {
		t.Fatalf("Recover = %q, %v; want rolled forward", rec, err)
	}
	if got := listTree(t, dir); len(got) != 4 || got[1] != "a.txt" || got[2] != "sub" || got[3] != "sub/b.txt" {
		t.Errorf("tree = %v, want a.txt and sub/b.txt only", got)
	}
	if rec, err := Recover(dir); err != nil || rec != RecoveryNone {
		t.Errorf("second Recover = %q, %v; want nothing to do", rec, err)
	}
}

func TestRecoverRollsAnUncommittedChangeBack(t *testing.T) {
	dir := t.TempDir()
	writeJournalTestFile(t, filepath.Join(dir, "a.txt"), "old\n")
	before := snapshot(t, dir)
	writeJournalTestFile(t, filepath.Join(dir, ".a.txt.gingen-000000000002"), "new\n")
	// Cut short by the interruption: rolled back all the same.
	writeJournalTestFile(t, filepath.Join(dir, "new/deeper/.c.txt.gingen-000000000002"), "c")
	writeJournalFile(t, dir, journalName, journal{
		ID:     "000000000002",
		Writes: []journalWrite{{Path: "a.txt", Staged: ".a.txt.gingen-000000000002", Mode: 0o644, SHA256: sum("new\n")}, {Path: "new/deeper/c.txt", Staged: "new/deeper/.c.txt.gingen-000000000002", Mode: 0o644, SHA256: sum("c\n")}, {Path: "d.txt", Staged: ".d.txt.gingen-000000000002", Mode: 0o644, SHA256: sum("d\n")}},
		Dirs:   []string{"new", "new/deeper"},
	})
	rec, err := Recover(dir)
	if err != nil || rec != RecoveryBack {
		t.Fatalf("Recover = %q, %v; want rolled back", rec, err)
	}
	sameTree(t, before, snapshot(t, dir))
}

// TestRecoverStaysInsideTheProject: a journal that names a path outside the project, or one
// through a symbolic link that leads out, is refused, and nothing outside is touched.
func TestRecoverStaysInsideTheProject(t *testing.T) {
	outside := t.TempDir()
	writeJournalTestFile(t, filepath.Join(outside, "victim.txt"), "keep me\n")
	for name, j := range map[string]journal{
		"a relative path out": {ID: "000000000003", Deletes: []string{"../" + filepath.Base(outside) + "/victim.txt"}},
		"an absolute path":    {ID: "000000000003", Deletes: []string{filepath.Join(outside, "victim.txt")}},
		"through a symlink":   {ID: "000000000003", Deletes: []string{"link/victim.txt"}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(filepath.Dir(outside), "project-"+strings.ReplaceAll(name, " ", "-"))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			writeJournalFile(t, dir, commitName, j)
			if _, err := Recover(dir); err == nil {
				t.Error("Recover succeeded, want a refusal")
			}
			if b, err := os.ReadFile(filepath.Join(outside, "victim.txt")); err != nil || string(b) != "keep me\n" {
				t.Errorf("the file outside the project was touched: %q, %v", b, err)
			}
		})
	}
}

func TestApplyInterruptedBeforeItsCommitPointLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	writeJournalTestFile(t, filepath.Join(dir, "a.txt"), "old\n")
	before := snapshot(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := applyChange(ctx, dir, []File{{Path: "a.txt", Body: []byte("new\n"), Mode: 0o644}, {Path: "x/y.txt", Body: []byte("y\n"), Mode: 0o644}}, nil)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("applyChange = %v, want ErrInterrupted", err)
	}
	sameTree(t, before, snapshot(t, dir))
}

// TestConcurrentChangesDoNotUndoEachOther: a second change in the same project waits for the
// first one (the project lock) instead of taking its journal for an interrupted one.
func TestConcurrentChangesDoNotUndoEachOther(t *testing.T) {
	dir := t.TempDir()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			errs <- applyChange(context.Background(), dir, []File{{Path: fmt.Sprintf("d%d/f.txt", i), Body: []byte("x\n"), Mode: 0o644}}, nil)
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := listTree(t, dir); len(got) != 17 {
		t.Errorf("tree = %v, want the 8 folders and files and nothing else", got)
	}
}
