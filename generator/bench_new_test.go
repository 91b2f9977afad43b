package generator

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gingen/gingen/templates"
)

// BenchmarkNew is gingen new's own work on a default project (what `gingen new NAME
// --no-input` plans): render every template of its layers and write the tree into a fresh
// folder. docs/BENCHMARKS.md ("gingen's own start-up") reports it beside the command's wall
// time; the process start-up and package initialization are not in it.
func BenchmarkNew(b *testing.B) {
	o := Options{Name: "myblog", Strategy: DefaultStrategy, DB: DefaultDB, Auth: DefaultAuth, Port: DefaultPort}
	o.Normalize()
	dir := b.TempDir()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		files, err := PlanProject(o, templates.FS())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := WriteProject(filepath.Join(dir, strconv.Itoa(i)), files, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPlanProject is the rendering part of BenchmarkNew alone: nothing is written.
func BenchmarkPlanProject(b *testing.B) {
	o := Options{Name: "myblog", Strategy: DefaultStrategy, DB: DefaultDB, Auth: DefaultAuth, Port: DefaultPort}
	o.Normalize()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanProject(o, templates.FS()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteProject is the writing part of BenchmarkNew alone: a default project,
// rendered once, written into a fresh folder each time.
func BenchmarkWriteProject(b *testing.B) {
	o := Options{Name: "myblog", Strategy: DefaultStrategy, DB: DefaultDB, Auth: DefaultAuth, Port: DefaultPort}
	o.Normalize()
	files, err := PlanProject(o, templates.FS())
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	i := 0
	for b.Loop() {
		if _, err := WriteProject(filepath.Join(dir, strconv.Itoa(i)), files, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
