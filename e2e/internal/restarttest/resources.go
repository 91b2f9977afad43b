package restarttest

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

// PostgresGolden is the golden PostgreSQL project (fork strategy, no resource of its own).
const PostgresGolden = "myblog-postgres"

// AddResources adds the resources to the project in dir the way `gingen add resource` does:
// the generator's plan, applied in order.
func AddResources(dir string, resources ...generator.ResourceOptions) error {
	for _, res := range resources {
		plan, err := generator.PlanAddResource(os.DirFS(dir), res, templates.FS())
		if err != nil {
			return fmt.Errorf("add resource %s: %w", res.Name, err)
		}
		if err := plan.Apply(dir); err != nil {
			return fmt.Errorf("add resource %s: %w", res.Name, err)
		}
	}
	return nil
}

// GoldenResource returns resource name as golden/<tree>/gingen.yaml records it, as the
// options that add it again (its fields with their modifiers).
func GoldenResource(golden, tree, name string) (generator.ResourceOptions, error) {
	b, err := os.ReadFile(filepath.Join(golden, tree, "gingen.yaml"))
	if err != nil {
		return generator.ResourceOptions{}, fmt.Errorf("resource %s of golden/%s: %w", name, tree, err)
	}
	m, err := generator.ParseManifest(b)
	if err != nil {
		return generator.ResourceOptions{}, fmt.Errorf("resource %s of golden/%s: %w", name, tree, err)
	}
	for _, r := range m.Resources {
		if r.Name != name {
			continue
		}
		opts := generator.ResourceOptions{Name: r.Name, Plural: r.Plural, Events: r.Events}
		for _, f := range r.Fields {
			opts.Fields = append(opts.Fields, f.String())
		}
		return opts, nil
	}
	return generator.ResourceOptions{}, fmt.Errorf("golden/%s/gingen.yaml records no resource %s", tree, name)
}

// PostgresProject returns golden/myblog-postgres with the article resource of
// golden/myblog-article (the fields Project's article has, POST /api/v1/articles) added as
// `gingen add resource` adds it, composed once. Its conf/app.ini points at a server that the
// MYBLOG_DATABASE_* variables override.
func (f *Fixtures) PostgresProject() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := PostgresGolden + "-with-article"
	if dir, ok := f.projects[name]; ok {
		return dir, nil
	}
	article, err := GoldenResource(f.Golden, "myblog-article", "article")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(f.dir, name)
	if err := Compose(filepath.Join(f.Golden, PostgresGolden), "", dir); err != nil {
		return "", err
	}
	if err := AddResources(dir, article); err != nil {
		return "", fmt.Errorf("compose %s: %w", dir, err)
	}
	f.projects[name] = dir
	return dir, nil
}
