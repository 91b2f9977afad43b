// Command vulnindex writes the vulnerability database that govulncheck reads from a folder
// (govulncheck -db file://OUT) from the OSV reports of the golang.org/x/vulndb module
// (its data/osv folder), as that module's own cmd/indexdb does:
//
//	go run ./internal/vulnindex -vulns "$(go mod download -json golang.org/x/vulndb@V | ...)/data/osv" -out OUT
//
// It writes index/db.json (the latest modification), index/modules.json (each module's
// reports, with the latest version that fixes each), index/vulns.json (each report's aliases)
// and ID/<id>.json (each report, compact), byte for byte what indexdb writes (checked on
// x/vulndb v0.0.0-20261105234957-e22db6528018: every file the same). Not the .json.gz copy of
// each file indexdb writes beside it: govulncheck reads those only over HTTP.
//
// Why not indexdb: it is built from the x/vulndb module, whose internal/database package
// imports what the vulnerability team's other commands need (Cloud Storage, go-git, gRPC):
// 555 packages, downloaded and compiled on every fresh CI machine for a command that reads
// JSON files and writes JSON files (minutes of a cold CI run). This command needs
// golang.org/x/mod/semver only.
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/mod/semver"
)

// osvTime is a report's time, encoded as the OSV specification wants it: RFC 3339 in UTC,
// ending in Z, without fractions of a second (vulndb's osv.Time).
type osvTime struct{ time.Time }

func (t osvTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

func (t *osvTime) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	parsed, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return err
	}
	t.Time = parsed.UTC()
	return nil
}

// report is what the index needs of an OSV report.
type report struct {
	ID       string   `json:"id"`
	Modified osvTime  `json:"modified"`
	Aliases  []string `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	} `json:"events"`
}

// The index's files (vulndb's internal/database: DBMeta, Module, ModuleVuln, Vuln).
type (
	dbMeta struct {
		Modified osvTime `json:"modified"`
	}
	module struct {
		Path  string       `json:"path"`
		Vulns []moduleVuln `json:"vulns"`
	}
	moduleVuln struct {
		ID       string  `json:"id"`
		Modified osvTime `json:"modified"`
		Fixed    string  `json:"fixed,omitempty"`
	}
	vuln struct {
		ID       string   `json:"id"`
		Modified osvTime  `json:"modified"`
		Aliases  []string `json:"aliases,omitempty"`
	}
)

// database is the index of a folder of reports, and each report compact, by ID.
type database struct {
	meta    dbMeta
	modules map[string]*module
	vulns   map[string]vuln
	entries map[string][]byte
}

// load reads every *.json report under dir but index.json, in the order of fs.WalkDir (by
// name), as indexdb does, confined to dir (os.Root: a symbolic link inside cannot lead out).
func load(dir string) (*database, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	reports := root.FS()
	db := &database{modules: map[string]*module{}, vulns: map[string]vuln{}, entries: map[string][]byte{}}
	err = fs.WalkDir(reports, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == "index.json" || path.Ext(d.Name()) != ".json" {
			return nil
		}
		raw, err := fs.ReadFile(reports, p)
		if err != nil {
			return err
		}
		var r report
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("read the report %s: %w", filepath.Join(dir, p), err)
		}
		return db.add(r, raw)
	})
	if err != nil {
		return nil, err
	}
	return db, nil
}

func (db *database) add(r report, raw []byte) error {
	if r.ID == "" {
		return errors.New("a report without an id")
	}
	if _, ok := db.vulns[r.ID]; ok {
		return fmt.Errorf("id %q appears twice in the reports", r.ID)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return fmt.Errorf("compact the report %s: %w", r.ID, err)
	}
	db.vulns[r.ID] = vuln{ID: r.ID, Modified: r.Modified, Aliases: r.Aliases}
	db.entries[r.ID] = compact.Bytes()
	for _, a := range r.Affected {
		m := db.modules[a.Package.Name]
		if m == nil {
			m = &module{Path: a.Package.Name, Vulns: []moduleVuln{}}
			db.modules[a.Package.Name] = m
		}
		m.Vulns = append(m.Vulns, moduleVuln{ID: r.ID, Modified: r.Modified, Fixed: latestFixed(a.Ranges)})
	}
	if r.Modified.After(db.meta.Modified.Time) {
		db.meta.Modified = r.Modified
	}
	return nil
}

// latestFixed is the latest version that fixes the report in the module's semver ranges,
// or "" when a range introduces it again after that (vulndb's osvutils.LatestFixed).
// Versions are unprefixed: "1.2.3".
func latestFixed(ranges []osvRange) string {
	before := func(v, w string) bool { return semver.Compare("v"+v, "v"+w) < 0 }
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && before(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && before(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// write writes the index under dir, each list sorted by module path and ID.
func (db *database) write(dir string) error {
	modules := slices.SortedFunc(maps.Values(db.modules), func(a, b *module) int { return cmp.Compare(a.Path, b.Path) })
	for _, m := range modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return cmp.Compare(a.ID, b.ID) })
	}
	ids := slices.Sorted(maps.Keys(db.vulns))
	vulns := make([]vuln, 0, len(ids))
	for _, id := range ids {
		vulns = append(vulns, db.vulns[id])
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"db.json", db.meta}, {"modules.json", modules}, {"vulns.json", vulns}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, "index", f.name), b); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if err := writeFile(filepath.Join(dir, "ID", id+".json"), db.entries[id]); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

func main() {
	vulns := flag.String("vulns", "", "the folder of OSV reports (data/osv of the golang.org/x/vulndb module)")
	out := flag.String("out", "", "the folder to write the database to")
	flag.Parse()
	if *vulns == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "vulnindex: -vulns and -out are required")
		os.Exit(2)
	}
	db, err := load(*vulns)
	if err == nil {
		err = db.write(*out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulnindex:", err)
		os.Exit(1)
	}
}
