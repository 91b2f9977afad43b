package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/gingen/gingen/internal/restartmod"
)

// recordFile is the record of what each combination's templates were made from, relative to
// the checkout root: outside templates/, which gingen embeds.
const recordFile = "internal/depsgen/inputs.txt"

// variantNames names the four projects of a combination, by variant (events: v&1, tracing: v&2).
func variantNames() [4]string { return [4]string{"plain", "events", "tracing", "both"} }

// record is what inputs.txt says of one combination: the key of each variant's inputs
// (inputs.key) and the digests of the go.mod.tmpl and go.sum.tmpl depsgen made from them
// (templateDigests).
type record struct {
	keys     [4]string
	mod, sum string
}

// recordHeader starts inputs.txt.
const recordHeader = `# Written by go run ./internal/depsgen; do not edit. For each combination, the key of what
# 'go mod tidy' read of each of its four projects (plain, events, tracing, both), and the
# digests of the go.mod.tmpl and go.sum.tmpl made from them. 'depsgen -check' (and
# TestTemplatesAreCurrent) tidies only a combination whose keys or templates differ from these.
`

// formatRecord returns the text of inputs.txt: one line per combination, sorted by name.
func formatRecord(recs map[string]record) []byte {
	var b bytes.Buffer
	b.WriteString(recordHeader)
	names := variantNames()
	for _, k := range slices.Sorted(maps.Keys(recs)) {
		r := recs[k]
		b.WriteString(k)
		for v, key := range r.keys {
			fmt.Fprintf(&b, " %s=%s", names[v], key)
		}
		fmt.Fprintf(&b, " go.mod=%s go.sum=%s\n", r.mod, r.sum)
	}
	return b.Bytes()
}

// parseRecord reads inputs.txt's text. Anything it does not expect (an unknown combination,
// one listed twice, a field missing, out of place or not a SHA-256) makes the whole record
// unusable: the check then tidies every combination rather than trust part of it.
func parseRecord(text []byte) (map[string]record, error) {
	known := map[string]bool{}
	for _, c := range Combinations() {
		known[c.Key()] = true
	}
	names := variantNames()
	labels := append(names[:], "go.mod", "go.sum")
	recs := map[string]record{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) != 1+len(labels) {
			return nil, fmt.Errorf("line %d: %d fields, want %d", n, len(f), 1+len(labels))
		}
		name := f[0]
		if !known[name] {
			return nil, fmt.Errorf("line %d: no combination %q", n, name)
		}
		if _, dup := recs[name]; dup {
			return nil, fmt.Errorf("line %d: %s again", n, name)
		}
		var hashes []string
		for i, label := range labels {
			value, ok := strings.CutPrefix(f[1+i], label+"=")
			if !ok || !isDigest(value) {
				return nil, fmt.Errorf("line %d: field %d is %q, want %s=<SHA-256 in hex>", n, 2+i, f[1+i], label)
			}
			hashes = append(hashes, value)
		}
		recs[name] = record{keys: [4]string(hashes[:4]), mod: hashes[4], sum: hashes[5]}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errors.New("no combination")
	}
	return recs, nil
}

// readRecord reads the record at path.
func readRecord(path string) (map[string]record, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := parseRecord(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// isDigest reports whether s is a SHA-256 in lower-case hex.
func isDigest(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// templateDigests returns the digests inputs.txt records of a combination's go.mod.tmpl and
// go.sum.tmpl. go.sum.tmpl's lines of the restart library count as one fixed line each: they
// hash the library's whole content, comments included, which keys leave out; splitRestart's
// lines are compared with the checkout's instead (restartmod.Sum), so that a comment changed
// under restart/ does not cost 72 tidies, and a template still matches byte for byte.
func templateDigests(mod, sum []byte) (modDigest, sumDigest string) {
	masked, _ := splitRestart(sum)
	m, s := sha256.Sum256(mod), sha256.Sum256(masked)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// splitRestart returns sum with each line of the restart library replaced by a fixed line,
// and those lines in order.
func splitRestart(sum []byte) (masked []byte, lines []string) {
	var b bytes.Buffer
	for _, l := range strings.SplitAfter(string(sum), "\n") {
		if strings.HasPrefix(l, restartmod.Path+" ") {
			line, nl := strings.CutSuffix(l, "\n")
			lines = append(lines, line)
			if l = "restart library"; nl {
				l += "\n"
			}
		}
		b.WriteString(l)
	}
	return b.Bytes(), lines
}
