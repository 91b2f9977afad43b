package generator

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gingen/gingen/templates"
)

func TestSettingChangesNameEachChangedShippedValue(t *testing.T) {
	old := []byte("; comment = no\n[app]\nRunMode = debug\nName = x\n[server]\nGone = 1\nHTTPPort = 8000\n")
	next := []byte("[app]\nRunMode = release\nName = x\n[server]\nHTTPPort = 8000\nNew =\n")
	final := []byte("[app]\nRunMode = debug\nName = x\n[server]\nHTTPPort = 9000\n")
	got := settingChanges(old, next, final)
	want := []string{
		"setting [app] RunMode: the shipped value changes from debug to release; your conf/app.ini keeps [app] RunMode = debug: set it yourself for the new behaviour",
		`setting [server] New is new, shipped as ""; your conf/app.ini does not set it (the default applies)`,
		"setting [server] Gone (shipped as 1) is no longer shipped; this gingen's code may ignore it",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("settingChanges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUpgradeReportsChangedSettings upgrades golden/myblog-article onto templates that ship
// other values in conf/app.ini: the notes name each setting with its old and new value, and
// what the project's file has after the upgrade (merged, or kept on a conflict).
func TestUpgradeReportsChangedSettings(t *testing.T) {
	tfs := templates.FS()
	ini, err := fs.ReadFile(tfs, "project/base/conf/app.ini.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	changedINI := strings.Replace(string(ini), "RunMode = release", "RunMode = debug", 1)
	changedINI = strings.Replace(changedINI, "IdleTimeout = 2m", "IdleTimeout = 3m", 1)
	if strings.Count(changedINI, "\n") != strings.Count(string(ini), "\n") || changedINI == string(ini) {
		t.Fatal("the app.ini template has no RunMode = release or IdleTimeout = 2m line to change")
	}
	changed := Overlay(tfs, fstest.MapFS{"project/base/conf/app.ini.tmpl": {Data: []byte(changedINI)}})
	for _, tc := range []struct {
		name, edit, to string
		want           []string
	}{
		{"an edit elsewhere: merged", "MaxConns = 0", "MaxConns = 10", []string{
			"setting [app] RunMode: the shipped value changes from release to debug; your conf/app.ini has it",
			"setting [server] IdleTimeout: the shipped value changes from 2m to 3m; your conf/app.ini has it",
		}},
		{"an edit of a changed setting: kept", "IdleTimeout = 2m", "IdleTimeout = 4m", []string{
			"setting [app] RunMode: the shipped value changes from release to debug; your conf/app.ini keeps [app] RunMode = release: set it yourself for the new behaviour",
			"setting [server] IdleTimeout: the shipped value changes from 2m to 3m; your conf/app.ini keeps [server] IdleTimeout = 4m: set it yourself for the new behaviour",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, filepath.Join("..", "golden", "myblog-article"))
			editFile(t, filepath.Join(dir, "conf", "app.ini"), tc.edit, tc.to)
			plan := upgrade(t, dir, UpgradeOptions{BaseTemplates: tfs}, changed)
			var settings []string
			for _, n := range plan.Notes {
				if strings.HasPrefix(n, "setting [") {
					settings = append(settings, n)
				}
			}
			if strings.Join(settings, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(settings, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
