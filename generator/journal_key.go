package generator

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// A journal is acted on only when gingen wrote it, for this project, on this machine: a
// repository can ship a .gingen-commit, and gingen must not carry out a stranger's plan. Each
// journal starts with a line holding an HMAC-SHA256, under a random key kept in the user's
// config folder (os.UserConfigDir()/gingen/journal.key, 0600 in a 0700 folder), over the
// project's absolute path and the journal's JSON. A journal whose HMAC does not match, or
// found when there is no key, is refused and left alone.

// journalHeader starts a journal's first line; the HMAC, in hex, follows it.
const journalHeader = "gingen-journal 1 hmac-sha256="

// errNoKey: the journal key does not exist (and was not asked to be made).
var errNoKey = errors.New("no journal key")

// journalKeyPath is where the journal key lives.
func journalKeyPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the folder for gingen's journal key: %w; set XDG_CONFIG_HOME or HOME", err)
	}
	return filepath.Join(dir, "gingen", "journal.key"), nil
}

// journalKey reads the journal key; when create is set, it makes one first if there is none.
// A key that others could read or replace is refused: whoever can write it can forge a
// journal. Without create, a missing key is errNoKey.
func journalKey(create bool) ([]byte, error) {
	name, err := journalKeyPath()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(name)
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create the folder of gingen's journal key: %w; set XDG_CONFIG_HOME (or HOME) to a folder of yours", err)
		}
	}
	info, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoKey
	}
	if err != nil {
		return nil, fmt.Errorf("gingen's journal key folder: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s, the folder of gingen's journal key, is not a folder; remove it: gingen makes it again", dir)
	}
	if problem := notPrivate(info, 0o022); problem != "" {
		return nil, fmt.Errorf("%s, the folder of gingen's journal key, %s; run chmod 700 %s, or remove it if it is not yours: gingen makes it again", dir, problem, dir)
	}
	key, err := readJournalKey(name)
	if errors.Is(err, errNoKey) && create {
		if err := makeJournalKey(name); err != nil {
			return nil, err
		}
		return readJournalKey(name)
	}
	return key, err
}

// readJournalKey reads the key file, which must be a regular file of the user's that only
// the user can read and write, holding 64 hex digits.
func readJournalKey(name string) ([]byte, error) {
	f, err := openNoFollow(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoKey
	}
	if err != nil {
		return nil, fmt.Errorf("gingen's journal key %s cannot be opened (%w); remove it if it is a link or not yours: gingen makes a new one", name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("gingen's journal key %s: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("gingen's journal key %s is not a regular file; remove it: gingen makes a new one", name)
	}
	if problem := notPrivate(info, 0o077); problem != "" {
		return nil, fmt.Errorf("gingen's journal key %s %s; run chmod 600 %s if only you could have read it, else remove it: gingen makes a new one", name, problem, name)
	}
	b, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return nil, fmt.Errorf("read gingen's journal key %s: %w", name, err)
	}
	key, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("gingen's journal key %s is damaged (not 64 hex digits); remove it: gingen makes a new one", name)
	}
	return key, nil
}

// makeJournalKey writes a new random key to name, whole or not at all, and never over a key
// another gingen made meanwhile (a hard link does not replace).
func makeJournalKey(name string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("make gingen's journal key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".journal.key-*") // 0600
	if err != nil {
		return fmt.Errorf("make gingen's journal key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(b) + "\n")
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("make gingen's journal key: %w", err)
	}
	if err := os.Link(tmp.Name(), name); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("make gingen's journal key: %w", err)
	}
	return nil
}

// journalMAC is the HMAC of a journal's body, bound to the project's absolute path.
func journalMAC(key []byte, root string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(journalHeader))
	m.Write([]byte(root))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)
}

// signJournal returns the journal file for body: the header line, then body.
func signJournal(key []byte, root string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(journalHeader)
	b.WriteString(hex.EncodeToString(journalMAC(key, root, body)))
	b.WriteByte('\n')
	b.Write(body)
	return b.Bytes()
}

// verifyJournal returns the body of a journal file whose HMAC matches, and false otherwise.
func verifyJournal(key []byte, root string, file []byte) ([]byte, bool) {
	line, body, ok := bytes.Cut(file, []byte("\n"))
	if !ok {
		return nil, false
	}
	sum, ok := bytes.CutPrefix(line, []byte(journalHeader))
	if !ok {
		return nil, false
	}
	mac, err := hex.DecodeString(string(sum))
	if err != nil || !hmac.Equal(mac, journalMAC(key, root, body)) {
		return nil, false
	}
	return body, true
}

// canonicalRoot is the project's absolute path with symbolic links resolved: the one a
// journal is bound to, however the folder was reached.
func canonicalRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("project %s: %w", root, err)
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("project %s: %w", root, err)
	}
	return resolved, nil
}
