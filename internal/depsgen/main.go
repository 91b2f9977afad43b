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
// tidies a second project of the combination with a resource added with --events too: the
// lines only that one needs (the websocket module of the event streams) go into the templates
// within {{if .Events}} blocks (eventsBlocks), so that a project without events requires
// exactly what it did before events existed.
func Generate(checkout string, c Combination, pins []string) (mod, sum []byte, err error) {
	restartDir, err := filepath.Abs(filepath.Join(checkout, "restart"))
	if err != nil {
		return nil, nil, err
	}
	plain, plainSum, err := tidied(restartDir, c, pins, false)
	if err != nil {
		return nil, nil, err
	}
	events, eventsSum, err := tidied(restartDir, c, pins, true)
	if err != nil {
		return nil, nil, err
	}
	plainTmpl, err := templatize(plain)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.Key(), err)
	}
	eventsTmpl, err := templatize(events)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.Key(), err)
	}
	lines, err := restartmod.Sum(restartDir, generator.RestartVersion)
	if err != nil {
		return nil, nil, err
	}
	if mod, err = eventsBlocks(plainTmpl, eventsTmpl); err != nil {
		return nil, nil, fmt.Errorf("%s: go.mod: %w", c.Key(), err)
	}
	if sum, err = eventsBlocks(addSumLines(plainSum, lines), addSumLines(eventsSum, lines)); err != nil {
		return nil, nil, fmt.Errorf("%s: go.sum: %w", c.Key(), err)
	}
	return mod, sum, nil
}

// tidied renders the combination's project (with events: and a resource added with
// --events) in a scratch folder with every pin required, tidies it and returns its go.mod
// and go.sum. Without events it also checks that resources of every field type need nothing
// more.
func tidied(restartDir string, c Combination, pins []string, events bool) (mod, sum []byte, err error) {
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
	o := generator.Options{Name: "depsgen", Module: placeholder, Strategy: c.Strategy, DB: c.DB, Auth: c.Auth, Port: 8000}
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
	if events {
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

// eventsBlocks returns the template of plain with the lines only events has, in their place,
// each run of them within {{if .Events}} ... {{end}}. Every line of plain must be in events,
// in the same order: events only adds (a module of its own), it never changes a version.
func eventsBlocks(plain, events []byte) ([]byte, error) {
	p := strings.SplitAfter(string(plain), "\n")
	e := strings.SplitAfter(string(events), "\n")
	var out strings.Builder
	i := 0
	open := false
	for _, l := range e {
		if i < len(p) && l == p[i] {
			if open {
				out.WriteString("{{end}}")
				open = false
			}
			out.WriteString(l)
			i++
			continue
		}
		if !strings.HasSuffix(l, "\n") || strings.Contains(l, "{{") {
			return nil, fmt.Errorf("a project with events has %q where one without has %q: want added whole lines only", l, strings.Join(p[i:], ""))
		}
		if !open {
			out.WriteString("{{if .Events}}")
			open = true
		}
		out.WriteString(l)
	}
	if open {
		out.WriteString("{{end}}")
	}
	if i != len(p) {
		return nil, fmt.Errorf("a project with events lacks %q, which one without has: events may only add lines", p[i])
	}
	return []byte(out.String()), nil
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
