package generator

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

// bodies returns the files by path.
func bodies(files []File) map[string]string {
	out := make(map[string]string, len(files))
	for _, f := range files {
		out[f.Path] = string(f.Body)
	}
	return out
}

func TestTracingIsRenderedOnlyWhenChosenAndKeptByTheManifest(t *testing.T) {
	for _, tracing := range []bool{false, true} {
		o := Options{Name: "myblog", Port: DefaultPort, Tracing: tracing}
		o.Normalize()
		files, err := PlanProject(o, templates.FS())
		if err != nil {
			t.Fatal(err)
		}
		got := bodies(files)
		_, hasPkg := got["pkg/tracing/tracing.go"]
		for what, has := range map[string]bool{
			"pkg/tracing/tracing.go":            hasPkg,
			"go.mod requiring OpenTelemetry":    strings.Contains(got["go.mod"], "go.opentelemetry.io/otel "),
			"go.sum with OpenTelemetry":         strings.Contains(got["go.sum"], "go.opentelemetry.io/otel "),
			"[tracing] in conf/app.ini":         strings.Contains(got["conf/app.ini"], "\n[tracing]\n"),
			"the tracing middleware in routers": strings.Contains(got["routers/router.go"], "deps.Tracing.Middleware()"),
			"trace_id in the log handler":       strings.Contains(got["middleware/requestid.go"], `"trace_id"`),
			"tracing: true in " + ManifestName:  strings.Contains(got[ManifestName], "\ntracing: true\n"),
			"a Tracing section in the README":   strings.Contains(got["README.md"], "\n## Tracing\n"),
		} {
			if has != tracing {
				t.Errorf("--tracing=%t: %s is %t", tracing, what, has)
			}
		}
		m, err := ParseManifest([]byte(got[ManifestName]))
		if err != nil {
			t.Fatal(err)
		}
		if m.Tracing != tracing || m.Options().Tracing != tracing {
			t.Fatalf("--tracing=%t: the manifest reads back tracing %t", tracing, m.Tracing)
		}
		// upgrade and new --force render from the manifest: the same files.
		again, _, err := RenderProject(m, templates.FS())
		if err != nil {
			t.Fatal(err)
		}
		sameTree(t, got, bodies(again))
	}
}

func TestAManifestWithABadTracingValueIsRefused(t *testing.T) {
	o := Options{Name: "myblog", Port: DefaultPort}
	o.Normalize()
	b, err := NewManifest(o).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), "\nport: 8000\n", "\nport: 8000\ntracing: maybe\n", 1)
	if _, err := ParseManifest([]byte(bad)); err == nil || !strings.Contains(err.Error(), "maybe") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("ParseManifest(tracing: maybe) = %v, want one line naming the value", err)
	}
}

// upgrade --tracing brings an existing project, resources and all, to what gingen new
// --tracing and the same add resource commands would have made; --tracing=false takes it
// back out, to the tree it started as.
func TestUpgradeTurnsTracingOnAndOff(t *testing.T) {
	golden := filepath.Join("..", "golden", "myblog-article")
	dir := copyTree(t, golden)
	on, off := true, false
	plan := upgrade(t, dir, UpgradeOptions{Tracing: &on}, templates.FS())
	steps := stepsByPath(plan.Steps)
	if steps["pkg/tracing/tracing.go"] != ActionCreate || steps["main.go"] != ActionUpdate || steps["go.mod"] != ActionUpdate {
		t.Errorf("steps: pkg/tracing/tracing.go %s, main.go %s, go.mod %s; want create, update, update",
			steps["pkg/tracing/tracing.go"], steps["main.go"], steps["go.mod"])
	}
	m, err := ParseManifest(mustRead(t, filepath.Join(dir, ManifestName)))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Tracing || len(m.Resources) != 4 {
		t.Fatalf("manifest: tracing %t, %d resources; want true and the 4 resources", m.Tracing, len(m.Resources))
	}
	want, _, err := RenderProject(m, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	compareTree(t, dir, want)

	plan = upgrade(t, dir, UpgradeOptions{Tracing: &off}, templates.FS())
	if got := stepsByPath(plan.Steps)["pkg/tracing/tracing.go"]; got != ActionDelete {
		t.Errorf("--tracing=false: pkg/tracing/tracing.go %s, want delete", got)
	}
	back, err := ParseManifest(mustRead(t, filepath.Join(golden, ManifestName)))
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := RenderProject(back, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	compareTree(t, dir, files)
}
