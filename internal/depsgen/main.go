// Command depsgen writes the go.mod and go.sum templates of generated projects, one pair per
// strategy x database x auth combination, under templates/project/deps/<strategy>-<db>-<auth>/.
// Run it from the root of a gingen checkout after changing what generated code imports or a
// version in pins.txt:
//
//	go run ./internal/depsgen               # rewrite the templates (make deps)
//	go run ./internal/depsgen -check        # fail, naming the combination, when one is out of date
//	go run ./internal/depsgen -check -full  # the same, tidying every combination
//
// For each combination it renders a project with gingen's own templates, seeds its go.mod
// with every requirement of pins.txt, and lets `go mod tidy` keep exactly what the code
// (tests included) imports; the result becomes the combination's template, with the module
// path and go version turned back into template fields. It then adds resources with every
// field type and checks that tidy would change nothing: resource templates may import only
// what a fresh project already requires, since `gingen add resource` never edits go.mod.
//
// Writing also records in inputs.txt, per combination, a key of everything tidy read for
// each of its four projects (inputs.go: the go command's version, the seeded go.mod, every
// .go file's path, build constraints, package clause and imports, the same of the restart
// library, depsgen's own sources) and the digests of the templates made from them. -check
// renders every project (seconds), and tidies only a combination whose keys or templates
// differ from the record: the same inputs make the same templates, so the others are current
// without a tidy. A comment or code changed in a template, or anything under restart/ but its
// imports and go.mod (go.sum's hashes of the library are compared with the checkout's),
// leaves the keys alone; a new import or .go file, a pin, a Go upgrade or an edit to depsgen
// changes them. A template edited by hand fails by its digest; a record missing
// or unreadable means every combination is tidied. What keys leave out: the module proxy's
// content, which a published version never changes, and the environment beyond tidyEnv.
// -full (make deps-check; GINGEN_DEPSGEN_FULL=1 in TestTemplatesAreCurrent) tidies every
// combination all the same: CI does not set it, since a change to depsgen or to Go changes
// every key, and writing always tidies all. Tidies run GOMAXPROCS combinations at once.
//
// Before this existed the two templates were hand-kept with one conditional block per
// combination; a version bump meant redoing 18 tidies by hand.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
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

// fullEnv set to 1 makes TestTemplatesAreCurrent tidy every combination, as -check -full
// does, whatever inputs.txt records.
const fullEnv = "GINGEN_DEPSGEN_FULL"

func main() {
	check := flag.Bool("check", false, "compare instead of writing; exit 1 when a combination is out of date")
	full := flag.Bool("full", false, "with -check: tidy every combination, whatever "+recordFile+" records")
	root := flag.String("root", ".", "the root of the gingen checkout")
	flag.Parse()
	if *full && !*check {
		fmt.Fprintln(os.Stderr, "depsgen: -full goes with -check (writing always tidies every combination); run: go run ./internal/depsgen -check -full")
		os.Exit(2)
	}
	logf := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	if err := run(config{root: *root, check: *check, full: *full, logf: logf}); err != nil {
		fmt.Fprintln(os.Stderr, "depsgen:", err)
		os.Exit(1)
	}
}

// config is what one run of depsgen does, and where.
type config struct {
	// root is the gingen checkout: pins.txt, restart/ and depsgen's own sources are read there.
	root string
	// out is where templates/project/deps and inputs.txt are written, or read with check;
	// root when "".
	out string
	// check compares instead of writing; full, with check, tidies every combination whatever
	// inputs.txt records.
	check, full bool
	// combinations are those to make or check; every one when nil.
	combinations []Combination
	// keys returns the keys of a combination's four projects: (*project).keys when nil.
	keys func(p *project, c Combination) ([4]string, error)
	// generate returns a combination's go.mod and go.sum templates: (*project).generate, the
	// tidy, when nil.
	generate func(p *project, c Combination) (mod, sum []byte, err error)
	// logf reports what was written and, with check, why each tidied combination was
	// tidied and how many were not; nil discards it.
	logf func(format string, args ...any)
}

// run writes, or with check compares, the templates of cfg's combinations.
//
// Writing tidies every combination and records in inputs.txt the key of each of its
// projects' inputs (project.variantKey) beside the digests of the templates made from them.
// Checking renders every project (seconds for all 72), keys it, and tidies only the combinations
// where a key, a template's digest or go.sum's lines of the restart library differ from the
// record and the checkout (project.changed): the others are current by construction, since
// the same inputs make the same templates. A record missing or unreadable, or full, means
// every combination is tidied. Tidies run at once, up to GOMAXPROCS.
func run(cfg config) error {
	logf := cfg.logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	out := cmp.Or(cfg.out, cfg.root)
	combos := cfg.combinations
	if combos == nil {
		combos = Combinations()
	}
	keys, generate := cfg.keys, cfg.generate
	if keys == nil {
		keys = (*project).keys
	}
	if generate == nil {
		generate = (*project).generate
	}
	p, err := newProject(cfg.root, templates.FS())
	if err != nil {
		return err
	}
	recordPath := filepath.Join(out, recordFile)
	var recs map[string]record
	if cfg.check {
		var err error
		if recs, err = readRecord(recordPath); err != nil && !cfg.full {
			logf("no usable record of inputs (%v): tidying every combination", err)
		}
	}

	type result struct {
		keys     [4]string
		tidy     bool
		mod, sum []byte
		err      error
	}
	results := make([]result, len(combos))
	parallel(len(combos), func(i int) { results[i].keys, results[i].err = keys(p, combos[i]) })
	for i, c := range combos {
		r := &results[i]
		if r.err != nil {
			return r.err
		}
		r.tidy = true
		if recs != nil && !cfg.full {
			why := p.changed(c, r.keys, recs, filepath.Join(out, depsDir, c.Key()))
			if r.tidy = why != ""; r.tidy {
				logf("%s: %s: tidying it", c.Key(), why)
			}
		}
	}
	parallel(len(combos), func(i int) {
		if r := &results[i]; r.tidy {
			r.mod, r.sum, r.err = generate(p, combos[i])
		}
	})
	var errs []error
	tidied := 0
	for _, r := range results {
		if r.tidy {
			tidied++
			errs = append(errs, r.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	if cfg.check {
		var stale []string
		unrecorded := 0 // current, but not as the record says
		for i, c := range combos {
			r := results[i]
			if !r.tidy {
				continue
			}
			dir := filepath.Join(out, depsDir, c.Key())
			current := true
			for name, want := range map[string][]byte{"go.mod.tmpl": r.mod, "go.sum.tmpl": r.sum} {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !bytes.Equal(got, want) {
					stale = append(stale, filepath.Join(dir, name))
					current = false
				}
			}
			if current && p.changed(c, r.keys, recs, dir) != "" {
				unrecorded++
			}
		}
		logf("%d of %d combinations unchanged, %d tidied", len(combos)-tidied, len(combos), tidied)
		if len(stale) > 0 {
			slices.Sort(stale)
			return fmt.Errorf("out of date: %s; run: go run ./internal/depsgen", strings.Join(stale, ", "))
		}
		if unrecorded > 0 {
			logf("the templates are current, but %s is out of date for %d combination(s): go run ./internal/depsgen rewrites it, so that the check need not tidy them", recordFile, unrecorded)
		}
		return nil
	}

	// Lines of combinations not made here (a test's subset) stay as they were.
	recs, err = readRecord(recordPath)
	if err != nil {
		recs = map[string]record{}
	}
	if err := os.MkdirAll(filepath.Dir(recordPath), 0o755); err != nil {
		return err
	}
	for i, c := range combos {
		r := results[i]
		dir := filepath.Join(out, depsDir, c.Key())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod.tmpl"), r.mod, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "go.sum.tmpl"), r.sum, 0o644); err != nil {
			return err
		}
		rec := record{keys: r.keys}
		rec.mod, rec.sum = templateDigests(r.mod, r.sum)
		recs[c.Key()] = rec
		logf("wrote %s", dir)
	}
	if err := os.WriteFile(recordPath, formatRecord(recs), 0o644); err != nil {
		return err
	}
	logf("wrote %s", recordPath)
	return nil
}

// parallel calls f(0) ... f(n-1), up to GOMAXPROCS at once, and returns when all have.
func parallel(n int, f func(i int)) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
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

// project is what rendering and tidying the scratch projects of a checkout needs.
type project struct {
	restartDir string   // the checkout's restart library, absolute
	restartSum []string // its go.sum lines (restartmod.Sum)
	pins       []string // pins.txt's requirements
	tfs        fs.FS    // gingen's templates
	in         inputs   // what every key starts with
}

// newProject reads what rendering and tidying the scratch projects of the checkout at root
// with the templates tfs needs.
func newProject(root string, tfs fs.FS) (*project, error) {
	pins, err := readPins(filepath.Join(root, pinsFile))
	if err != nil {
		return nil, err
	}
	restartDir, err := filepath.Abs(filepath.Join(root, "restart"))
	if err != nil {
		return nil, err
	}
	lines, err := restartmod.Sum(restartDir, generator.RestartVersion)
	if err != nil {
		return nil, err
	}
	in, err := readInputs(root, restartDir)
	if err != nil {
		return nil, err
	}
	return &project{restartDir: restartDir, restartSum: lines, pins: pins, tfs: tfs, in: in}, nil
}

// generate renders the combination's project in a scratch folder, tidies it from the pins,
// checks that resources need nothing more, and returns its go.mod and go.sum templates. It
// tidies three more projects of the combination: one with a resource added with --events,
// one generated with --tracing, and one with both. The lines only a project with events
// needs (the websocket module of the event streams) go into the templates within
// {{if .Events}} blocks, those only one with tracing needs (OpenTelemetry) within
// {{if .Tracing}} blocks (optionBlocks), so that a project with neither requires exactly what
// it did before either existed. Each of the four renderings of the templates is checked
// against its tidied project.
func (p *project) generate(c Combination) (mod, sum []byte, err error) {
	var mods, sums [4][]byte // by variant: plain, events, tracing, both
	for v := range 4 {
		m, s, err := p.tidied(c, v)
		if err != nil {
			return nil, nil, err
		}
		if mods[v], err = templatize(m); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Key(), err)
		}
		sums[v] = addSumLines(s, p.restartSum)
	}
	if mod, err = optionBlocks(mods); err != nil {
		return nil, nil, fmt.Errorf("%s: go.mod: %w", c.Key(), err)
	}
	if sum, err = optionBlocks(sums); err != nil {
		return nil, nil, fmt.Errorf("%s: go.sum: %w", c.Key(), err)
	}
	return mod, sum, nil
}

// tidied renders variant v of the combination's project (render), tidies it and returns its
// go.mod and go.sum. For the plain variant it also checks that resources of every field type
// need nothing more.
func (p *project) tidied(c Combination, v int) (mod, sum []byte, err error) {
	root, cleanup, err := p.render(c, v)
	defer cleanup()
	if err != nil {
		return nil, nil, err
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
	if v != 0 {
		return mod, sum, nil
	}
	if err := addResources(root, p.tfs, sampleResources()); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.Key(), err)
	}
	if err := gomod(root, "tidy", "-diff"); err != nil {
		return nil, nil, fmt.Errorf("%s: the resource templates import a module a fresh project does not require; import it from a project file too: %w", c.Key(), err)
	}
	return mod, sum, nil
}

// keys returns the keys of the combination's four projects, by variant (variantKey).
func (p *project) keys(c Combination) ([4]string, error) {
	var keys [4]string
	for v := range 4 {
		var err error
		if keys[v], err = p.variantKey(c, v); err != nil {
			return keys, err
		}
	}
	return keys, nil
}

// variantKey renders variant v of the combination's project as tidied does, without tidying
// it, and returns the key of everything tidy reads there (inputs.key): the project's
// treeInputs and, for the plain variant, those of the project with the sample resources
// added, which tidy -diff reads. Adding them does not read go.mod, which is all tidying
// changes, so adding them to the untidied project gives the files tidy -diff sees.
func (p *project) variantKey(c Combination, v int) (string, error) {
	root, cleanup, err := p.render(c, v)
	defer cleanup()
	if err != nil {
		return "", err
	}
	tree, err := treeInputs(root, p.restartDir)
	if err != nil {
		return "", err
	}
	resources := ""
	if v == 0 {
		if err := addResources(root, p.tfs, sampleResources()); err != nil {
			return "", fmt.Errorf("%s: %w", c.Key(), err)
		}
		if resources, err = treeInputs(root, p.restartDir); err != nil {
			return "", err
		}
	}
	return p.in.key(tree, resources), nil
}

// changed returns why the combination must be tidied to be checked, given the keys of its
// projects, the record of its last generation in recs and its templates in dir; "" when the
// templates are what the record says the same inputs made, and go.sum's lines of the restart
// library are the checkout's.
func (p *project) changed(c Combination, keys [4]string, recs map[string]record, dir string) string {
	r, ok := recs[c.Key()]
	if !ok {
		return "not in " + recordFile
	}
	for v, name := range variantNames() {
		if keys[v] != r.keys[v] {
			return "what tidy reads of its " + name + " project changed"
		}
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod.tmpl"))
	if err != nil {
		return err.Error()
	}
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum.tmpl"))
	if err != nil {
		return err.Error()
	}
	md, sd := templateDigests(mod, sum)
	if md != r.mod {
		return "go.mod.tmpl is not what depsgen made of these inputs"
	}
	if sd != r.sum {
		return "go.sum.tmpl is not what depsgen made of these inputs"
	}
	if _, lines := splitRestart(sum); !slices.Equal(lines, p.restartSum) {
		return "go.sum.tmpl's lines of the restart library are not the checkout's"
	}
	return ""
}

// render writes variant v of the combination's project (events, v&1: with a resource added
// with --events; tracing, v&2: generated with --tracing) in a scratch folder, with a go.mod
// that requires every pin, and returns its root and a function that removes the folder.
func (p *project) render(c Combination, v int) (root string, cleanup func(), err error) {
	scratch, err := os.MkdirTemp("", "depsgen-*")
	if err != nil {
		return "", func() {}, err
	}
	cleanup = func() { os.RemoveAll(scratch) }
	root = filepath.Join(scratch, "depsgen")

	// The restart library is required at the version this gingen releases it with, and
	// tidied against the checkout's copy: that version is not published before the release.
	seed := "module {{.Module}}\n\ngo {{.GoVersion}}\n\nrequire (\n\t" + strings.Join(p.pins, "\n\t") +
		"\n\t" + generator.RestartModule + " " + generator.RestartVersion + "\n)\n\nreplace " + generator.RestartModule + " => " + p.restartDir + "\n"
	key := "project/deps/" + c.Key()
	tfs := generator.Overlay(p.tfs, fstest.MapFS{
		key + "/go.mod.tmpl": {Data: []byte(seed)},
		key + "/go.sum.tmpl": {Data: nil},
	})
	o := generator.Options{Name: "depsgen", Module: placeholder, Strategy: c.Strategy, DB: c.DB, Auth: c.Auth, Port: 8000, Tracing: v&2 != 0}
	o.Normalize()
	files, err := generator.PlanProject(o, tfs)
	if err != nil {
		return "", cleanup, fmt.Errorf("%s: render: %w", c.Key(), err)
	}
	if _, err := generator.WriteProject(root, files, generator.WriteOptions{}); err != nil {
		return "", cleanup, fmt.Errorf("%s: write: %w", c.Key(), err)
	}
	if v&1 != 0 {
		if err := addResources(root, tfs, []generator.ResourceOptions{eventsResource()}); err != nil {
			return "", cleanup, fmt.Errorf("%s: %w", c.Key(), err)
		}
	}
	return root, cleanup, nil
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
	cmd.Env = append(os.Environ(), tidyEnv()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go mod %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
