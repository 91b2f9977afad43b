// Command depsgen writes the go.mod and go.sum templates of generated projects, one pair per
// strategy x database x auth combination, under templates/project/deps/<strategy>-<db>-<auth>/.
// Run it from the root of a gingen checkout after changing what generated code imports or a
// version in pins.txt:
//
//	go run ./internal/depsgen          # rewrite the templates
//	go run ./internal/depsgen -check   # fail, naming the combination, when one is out of date
//
// For each combination it renders a project with gingen's own templates, seeds its go.mod
// with every requirement of pins.txt, and lets `go mod tidy` keep exactly what the code
// (tests included) imports; the result becomes the combination's template, with the module
// path and go version turned back into template fields. It then adds resources with every
// field type and checks that tidy would change nothing: resource templates may import only
// what a fresh project already requires, since `gingen add resource` never edits go.mod.
//
// Before this existed the two templates were hand-kept with one conditional block per
// combination; a version bump meant redoing 18 tidies by hand.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing/fstest"
	"text/template"

	"golang.org/x/mod/modfile"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/internal/restartmod"
	"github.com/gingen/gingen/templates"
)

// depsDir is where the templates go, relative to the checkout root.
const depsDir = "templates/project/deps"

// pinsFile holds the pinned versions, relative to the checkout root.
const pinsFile = "internal/depsgen/pins.txt"

// placeholder is the module path the scratch projects are rendered with.
const placeholder = "example.com/depsgen"

func main() {
	check := flag.Bool("check", false, "compare instead of writing; exit 1 when a combination is out of date")
	root := flag.String("root", ".", "the root of the gingen checkout")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "depsgen:", err)
		os.Exit(1)
	}
}

// run writes, or with check compares, every combination's templates under root.
func run(root string, check bool) error {
	pins, err := readPins(filepath.Join(root, pinsFile))
	if err != nil {
		return err
	}
	var stale []string
	for _, c := range Combinations() {
		mod, sum, err := Generate(root, c, pins)
		if err != nil {
			return err
		}
		dir := filepath.Join(root, depsDir, c.Key())
		if check {
			for name, want := range map[string][]byte{"go.mod.tmpl": mod, "go.sum.tmpl": sum} {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !bytes.Equal(got, want) {
					stale = append(stale, filepath.Join(dir, name))
				}
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod.tmpl"), mod, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "go.sum.tmpl"), sum, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", dir)
	}
	if len(stale) > 0 {
		return fmt.Errorf("out of date: %s; run: go run ./internal/depsgen", strings.Join(stale, ", "))
	}
	return nil
}

// Combination is one strategy x database x auth choice.
type Combination struct{ Strategy, DB, Auth string }

// Key names the combination's folder: generator.DepsKey.
func (c Combination) Key() string {
	return generator.DepsKey(generator.Options{Strategy: c.Strategy, DB: c.DB, Auth: c.Auth})
}

// Combinations lists every combination gingen can generate.
func Combinations() []Combination {
	var out []Combination
	for _, s := range generator.Strategies() {
		for _, d := range generator.Databases() {
			for _, a := range generator.Auths() {
				out = append(out, Combination{s, d, a})
			}
		}
	}
	return out
}

// readPins returns pins.txt's requirements as go.mod require lines.
func readPins(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read pins: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"module version\", got %q", path, n, line)
		}
		lines = append(lines, fields[0]+" "+fields[1])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read pins: %w", err)
	}
	return lines, nil
}

// Generate renders the combination's project in a scratch folder, tidies it from the pins,
// checks that resources need nothing more, and returns its go.mod and go.sum templates. It
// tidies three more projects of the combination: one with a resource added with --events,
// one generated with --tracing, and one with both. The lines only a project with events
// needs (the websocket module of the event streams) go into the templates within
// {{if .Events}} blocks, those only one with tracing needs (OpenTelemetry) within
// {{if .Tracing}} blocks (optionBlocks), so that a project with neither requires exactly what
// it did before either existed. Each of the four renderings of the templates is checked
// against its tidied project.
func Generate(checkout string, c Combination, pins []string) (mod, sum []byte, err error) {
	restartDir, err := filepath.Abs(filepath.Join(checkout, "restart"))
	if err != nil {
		return nil, nil, err
	}
	lines, err := restartmod.Sum(restartDir, generator.RestartVersion)
	if err != nil {
		return nil, nil, err
	}
	var mods, sums [4][]byte // by variant: plain, events, tracing, both
	for v := range 4 {
		m, s, err := tidied(restartDir, c, pins, v&1 != 0, v&2 != 0)
		if err != nil {
			return nil, nil, err
		}
		if mods[v], err = templatize(m); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Key(), err)
		}
		sums[v] = addSumLines(s, lines)
	}
	if mod, err = optionBlocks(mods); err != nil {
		return nil, nil, fmt.Errorf("%s: go.mod: %w", c.Key(), err)
	}
	if sum, err = optionBlocks(sums); err != nil {
		return nil, nil, fmt.Errorf("%s: go.sum: %w", c.Key(), err)
	}
	return mod, sum, nil
}

// tidied renders the combination's project (with events: and a resource added with
// --events; with tracing: generated with --tracing) in a scratch folder with every pin
// required, tidies it and returns its go.mod and go.sum. Without events or tracing it also
// checks that resources of every field type need nothing more.
func tidied(restartDir string, c Combination, pins []string, events, tracing bool) (mod, sum []byte, err error) {
	scratch, err := os.MkdirTemp("", "depsgen-*")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(scratch)
	root := filepath.Join(scratch, "depsgen")

	// The restart library is required at the version this gingen releases it with, and
	// tidied against the checkout's copy: that version is not published before the release.
	seed := "module {{.Module}}\n\ngo {{.GoVersion}}\n\nrequire (\n\t" + strings.Join(pins, "\n\t") +
		"\n\t" + generator.RestartModule + " " + generator.RestartVersion + "\n)\n\nreplace " + generator.RestartModule + " => " + restartDir + "\n"
	key := "project/deps/" + c.Key()
	tfs := generator.Overlay(templates.FS(), fstest.MapFS{
		key + "/go.mod.tmpl": {Data: []byte(seed)},
		key + "/go.sum.tmpl": {Data: nil},
	})
	o := generator.Options{Name: "depsgen", Module: placeholder, Strategy: c.Strategy, DB: c.DB, Auth: c.Auth, Port: 8000, Tracing: tracing}
	o.Normalize()
	files, err := generator.PlanProject(o, tfs)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: render: %w", c.Key(), err)
	}
	if _, err := generator.WriteProject(root, files, generator.WriteOptions{}); err != nil {
		return nil, nil, fmt.Errorf("%s: write: %w", c.Key(), err)
	}
	if events {
		if err := addResources(root, tfs, []generator.ResourceOptions{eventsResource()}); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Key(), err)
		}
	}
	if err := gomod(root, "tidy"); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.Key(), err)
	}
	if mod, err = os.ReadFile(filepath.Join(root, "go.mod")); err != nil {
		return nil, nil, err
	}
	if sum, err = os.ReadFile(filepath.Join(root, "go.sum")); err != nil {
		return nil, nil, err
	}
	if events || tracing {
		return mod, sum, nil
	}
	if err := addResources(root, templates.FS(), sampleResources()); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.Key(), err)
	}
	if err := gomod(root, "tidy", "-diff"); err != nil {
		return nil, nil, fmt.Errorf("%s: the resource templates import a module a fresh project does not require; import it from a project file too: %w", c.Key(), err)
	}
	return mod, sum, nil
}

// addResources runs gingen add resource for each of rs in the project at root.
func addResources(root string, tfs fs.FS, rs []generator.ResourceOptions) error {
	for _, r := range rs {
		plan, err := generator.PlanAddResource(os.DirFS(root), r, tfs)
		if err != nil {
			return fmt.Errorf("add resource %s: %w", r.Name, err)
		}
		if err := plan.Apply(root); err != nil {
			return fmt.Errorf("add resource %s: %w", r.Name, err)
		}
	}
	return nil
}

// eventsResource is a resource added with --events: its project imports the event streams.
func eventsResource() generator.ResourceOptions {
	return generator.ResourceOptions{Name: "feed_item", Fields: []string{"title:string"}, Events: true}
}

// optionBlocks returns one template of the four texts of a go.mod or go.sum, by variant:
// v[0] of a project with neither events nor tracing, v[1] with events, v[2] with tracing,
// v[3] with both. The lines of v[0] stay as they are; a line only a project with events has
// goes within {{if .Events}} ... {{end}}, one only with tracing within {{if .Tracing}}, one
// both have within {{if or .Events .Tracing}}, each run of lines under the same condition in
// one block. Every line of v[0] must be in the others, in the same order: an option only
// adds (modules of its own), it never changes a version. The template is then rendered for
// each variant and must give back its text, the fourth (both) included.
func optionBlocks(v [4][]byte) ([]byte, error) {
	p := strings.SplitAfter(string(v[0]), "\n")
	events, err := extras(p, string(v[1]), "events")
	if err != nil {
		return nil, err
	}
	tracing, err := extras(p, string(v[2]), "tracing")
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	open := ""
	emit := func(cond, line string) {
		if cond != open {
			if open != "" {
				out.WriteString("{{end}}")
			}
			if cond != "" {
				out.WriteString("{{if " + cond + "}}")
			}
			open = cond
		}
		out.WriteString(line)
	}
	for i := 0; i <= len(p); i++ {
		// Both lists are in go.mod's (go.sum's) sorted order: merged, a line both have once.
		e, t := events[i], tracing[i]
		for len(e) > 0 || len(t) > 0 {
			switch {
			case len(t) == 0 || len(e) > 0 && e[0] < t[0]:
				emit(".Events", e[0])
				e = e[1:]
			case len(e) == 0 || t[0] < e[0]:
				emit(".Tracing", t[0])
				t = t[1:]
			default:
				emit("or .Events .Tracing", e[0])
				e, t = e[1:], t[1:]
			}
		}
		if i < len(p) {
			emit("", p[i])
		}
	}
	emit("", "")
	tmpl := []byte(out.String())
	for i, want := range v {
		got, err := renderVariant(tmpl, i&1 != 0, i&2 != 0)
		if err != nil {
			return nil, err
		}
		wantText, err := renderVariant(want, false, false)
		if err != nil {
			return nil, err
		}
		if got != wantText {
			return nil, fmt.Errorf("the template rendered with events=%t tracing=%t is not what tidy wrote for that project: the options' modules interact; extend optionBlocks", i&1 != 0, i&2 != 0)
		}
	}
	return tmpl, nil
}

// extras returns, by position in p (the lines of the project without options), the lines
// of text (a project with option) that p lacks and that come just before p's line there.
func extras(p []string, text, option string) (map[int][]string, error) {
	out := map[int][]string{}
	i := 0
	for _, l := range strings.SplitAfter(text, "\n") {
		if i < len(p) && l == p[i] {
			i++
			continue
		}
		if l == "" {
			continue
		}
		if !strings.HasSuffix(l, "\n") || strings.Contains(l, "{{if") || strings.Contains(l, "{{end") {
			return nil, fmt.Errorf("a project with %s has %q where one without has %q: want added whole lines only", option, l, strings.Join(p[i:], ""))
		}
		out[i] = append(out[i], l)
	}
	if i != len(p) {
		return nil, fmt.Errorf("a project with %s lacks %q, which one without has: %s may only add lines", option, p[i], option)
	}
	return out, nil
}

// renderVariant renders a go.mod or go.sum template for a project with and without events
// and tracing, with fixed values for the other fields.
func renderVariant(tmpl []byte, events, tracing bool) (string, error) {
	t, err := template.New("deps").Parse(string(tmpl))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = t.Execute(&b, map[string]any{"Module": placeholder, "GoVersion": "1", "RestartReplace": "/restart", "Events": events, "Tracing": tracing})
	return b.String(), err
}

// sampleResources use every field type, a reference included.
func sampleResources() []generator.ResourceOptions {
	var fields []string
	for _, t := range generator.FieldTypes() {
		if t != "references" {
			fields = append(fields, "f_"+t+":"+t)
		}
	}
	return []generator.ResourceOptions{
		{Name: "sample", Fields: fields},
		{Name: "child", Fields: []string{"sample:references", "note:string"}},
	}
}

// templatize turns a tidied go.mod back into a template: the placeholder module path and the
// go directive become template fields.
//
// The replace of the checkout's restart library goes, and in its place comes a template
// block: a development build of gingen points the project at its own checkout
// (ProjectData.RestartReplace), a release build renders nothing there.
func templatize(mod []byte) ([]byte, error) {
	f, err := modfile.Parse("go.mod", mod, nil)
	if err != nil {
		return nil, err
	}
	if err := f.DropReplace(generator.RestartModule, ""); err != nil {
		return nil, err
	}
	f.Cleanup()
	if mod, err = f.Format(); err != nil {
		return nil, err
	}
	mod = append(bytes.TrimRight(mod, "\n"), []byte(restartReplaceBlock)...)
	lines := strings.SplitAfter(string(mod), "\n")
	var seenModule, seenGo bool
	for i, l := range lines {
		switch {
		case !seenModule && strings.TrimSpace(l) == "module "+placeholder:
			lines[i], seenModule = "module {{.Module}}\n", true
		case !seenGo && strings.HasPrefix(l, "go "):
			lines[i], seenGo = "go {{.GoVersion}}\n", true
		case strings.HasPrefix(l, "toolchain "):
			return nil, errors.New("tidy added a toolchain line: a pinned module needs a newer Go than generated projects declare")
		}
	}
	if !seenModule || !seenGo {
		return nil, errors.New("tidied go.mod lacks its module or go line")
	}
	return []byte(strings.Join(lines, "")), nil
}

// restartReplaceBlock ends every go.mod template: the replace directive of a development
// build (see generator.Options.RestartReplace).
const restartReplaceBlock = "\n{{- if .RestartReplace}}\n\n" +
	"// A development build of gingen generated this project: the restart library comes from its checkout.\n" +
	"// Remove this line once the version required above is published.\n" +
	"replace " + generator.RestartModule + " => {{.RestartReplace}}\n{{- end}}\n"

// gomod runs `go mod ARGS...` in dir with the machine's toolchain and no workspace.
func gomod(dir string, args ...string) error {
	cmd := exec.Command("go", append([]string{"mod"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go mod %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
