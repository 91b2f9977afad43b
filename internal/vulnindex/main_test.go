package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Three reports, written out of order: a module fixed twice (the latest fix wins), one
// reintroduced after its last fix (no fixed version), a module affected twice by one report
// (listed twice, as indexdb lists it), the standard library, and non-SEMVER ranges, which
// have no say.
var reports = map[string]string{
	"GO-2024-0002.json": `{
  "schema_version": "1.3.1",
  "id": "GO-2024-0002",
  "modified": "2024-03-01T10:00:00Z",
  "aliases": ["CVE-2024-2"],
  "affected": [
    {"package": {"name": "example.com/b", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}, {"introduced": "1.5.0"}]}]},
    {"package": {"name": "example.com/b", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.0.0"}, {"fixed": "2.0.1"}]}]}
  ]
}
`,
	"GO-2024-0001.json": `{
  "schema_version": "1.3.1",
  "id": "GO-2024-0001",
  "modified": "2024-05-02T08:30:00+02:00",
  "affected": [
    {"package": {"name": "example.com/a", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.10.0"}, {"introduced": "1.11.0"}, {"fixed": "1.11.2"}]},
                {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "9.9.9"}]}]},
    {"package": {"name": "stdlib", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.22.3"}]}]}
  ]
}
`,
	"index.json": `{"not": "a report"}`,
	"README.md":  "not a report",
}

func TestIndexesReportsAsIndexdb(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	for name, body := range reports {
		if err := os.WriteFile(filepath.Join(in, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := load(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.write(out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"index/db.json":        `{"modified":"2024-05-02T06:30:00Z"}`,
		"index/modules.json":   `[{"path":"example.com/a","vulns":[{"id":"GO-2024-0001","modified":"2024-05-02T06:30:00Z","fixed":"1.11.2"}]},{"path":"example.com/b","vulns":[{"id":"GO-2024-0002","modified":"2024-03-01T10:00:00Z"},{"id":"GO-2024-0002","modified":"2024-03-01T10:00:00Z","fixed":"2.0.1"}]},{"path":"stdlib","vulns":[{"id":"GO-2024-0001","modified":"2024-05-02T06:30:00Z","fixed":"1.22.3"}]}]`,
		"index/vulns.json":     `[{"id":"GO-2024-0001","modified":"2024-05-02T06:30:00Z"},{"id":"GO-2024-0002","modified":"2024-03-01T10:00:00Z","aliases":["CVE-2024-2"]}]`,
		"ID/GO-2024-0002.json": strings.Join(strings.Fields(reports["GO-2024-0002.json"]), ""),
	}
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != w {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, w)
		}
	}
	var files []string
	if err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(files, " "); got != "ID/GO-2024-0001.json ID/GO-2024-0002.json index/db.json index/modules.json index/vulns.json" {
		t.Errorf("files written: %s", got)
	}
}

func TestRefusesAnIDTwice(t *testing.T) {
	in := t.TempDir()
	for _, name := range []string{"GO-2024-0002.json", "GO-2024-0002-copy.json"} {
		if err := os.WriteFile(filepath.Join(in, name), []byte(reports["GO-2024-0002.json"]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := load(in); err == nil || !strings.Contains(err.Error(), `id "GO-2024-0002" appears twice`) {
		t.Errorf("load = %v, want the id named twice", err)
	}
}

func TestRefusesAReportThatIsNotJSON(t *testing.T) {
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "GO-2024-0003.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load(in); err == nil || !strings.Contains(err.Error(), "GO-2024-0003.json") {
		t.Errorf("load = %v, want the report named", err)
	}
}
