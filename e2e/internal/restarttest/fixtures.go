package restarttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// The POST the load and the slow requests send: golden/myblog-article's create endpoint,
// its JSON body and the status it answers.
const (
	PostPath   = "/api/v1/articles"
	PostJSON   = `{"title":"restart under load","body":"posted while the server restarts"}`
	PostStatus = 201
)

// Fixtures builds and starts the golden projects for tests and benchmarks.
type Fixtures struct {
	// Golden is the golden/ folder of the gingen checkout.
	Golden string
	*Builder
	dir      string
	mu       sync.Mutex
	projects map[string]string
}

// NewFixtures keeps composed projects and binaries in dir.
func NewFixtures(golden, dir string) *Fixtures {
	return &Fixtures{Golden: golden, Builder: NewBuilder(dir), dir: dir, projects: map[string]string{}}
}

// Dir is the folder of the fixtures' projects and binaries.
func (f *Fixtures) Dir() string { return f.dir }

// Project returns the source of myblog with the strategy's restart code and the resources of
// golden/myblog-article (POST /api/v1/articles): golden/myblog-<strategy> with the models,
// routers and db (migrations) folders of golden/myblog-article, composed once.
func (f *Fixtures) Project(strategy string) (string, error) {
	return f.projectWith(strategy, "myblog-article")
}

// EventsProject is Project with the resources of golden/myblog-events (notes, added with
// --events: POST /api/v1/notes, GET /api/v1/notes/events) instead.
func (f *Fixtures) EventsProject(strategy string) (string, error) {
	return f.projectWith(strategy, EventsGolden)
}

// EventsGolden is the golden case of a resource added with --events.
const EventsGolden = "myblog-events"

// projectWith composes golden/myblog-<strategy> with the models, routers and db folders of
// the golden case resources, once.
func (f *Fixtures) projectWith(strategy, resources string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := "myblog-" + strategy
	if resources != "myblog-article" {
		name += "-with-" + resources
	}
	if dir, ok := f.projects[name]; ok {
		return dir, nil
	}
	dir := filepath.Join(f.dir, name)
	base := filepath.Join(f.Golden, "myblog-"+strategy)
	extra := filepath.Join(f.Golden, resources)
	if _, err := os.Stat(filepath.Join(extra, "go.mod")); err != nil {
		return "", fmt.Errorf("the resources need golden/%s: %w", resources, err)
	}
	// db holds the migrations that create the resources' tables.
	if err := Compose(base, extra, dir, "models", "routers", "db"); err != nil {
		return "", err
	}
	if resources != "myblog-article" {
		// The resources' project requires what they import (the websocket module of the
		// event streams); every strategy's go.mod and go.sum are otherwise the same.
		for _, name := range []string{"go.mod", "go.sum"} {
			b, err := os.ReadFile(filepath.Join(extra, name))
			if err != nil {
				return "", fmt.Errorf("compose %s: %w", dir, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return "", fmt.Errorf("compose %s: %w", dir, err)
			}
		}
	}
	f.projects[name] = dir
	return dir, nil
}

// Versions builds the project of strategy once per version and returns the binaries.
func (f *Fixtures) Versions(ctx context.Context, strategy string, versions ...string) ([]string, error) {
	dir, err := f.Project(strategy)
	if err != nil {
		return nil, err
	}
	bins := make([]string, len(versions))
	for i, v := range versions {
		if bins[i], err = f.Binary(ctx, dir, v); err != nil {
			return nil, err
		}
	}
	return bins, nil
}

// Start deploys version of the strategy's project as cfg.WorkDir/myblog and starts it as
// its deploy files would. cfg's Strategy, Binary, ConfigFile and EnvPrefix are filled in.
func (f *Fixtures) Start(ctx context.Context, strategy, version string, cfg ServerConfig) (*Server, error) {
	dir, err := f.Project(strategy)
	if err != nil {
		return nil, err
	}
	return f.startFrom(ctx, dir, strategy, version, cfg)
}

// StartEvents is Start with the project of EventsProject.
func (f *Fixtures) StartEvents(ctx context.Context, strategy, version string, cfg ServerConfig) (*Server, error) {
	dir, err := f.EventsProject(strategy)
	if err != nil {
		return nil, err
	}
	return f.startFrom(ctx, dir, strategy, version, cfg)
}

func (f *Fixtures) startFrom(ctx context.Context, dir, strategy, version string, cfg ServerConfig) (*Server, error) {
	bin, err := f.Binary(ctx, dir, version)
	if err != nil {
		return nil, err
	}
	cfg.Strategy = strategy
	cfg.Binary = filepath.Join(cfg.WorkDir, "myblog")
	cfg.ConfigFile = filepath.Join(dir, "conf", "app.ini")
	cfg.EnvPrefix = "MYBLOG"
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, err
	}
	if err := Install(bin, cfg.Binary); err != nil {
		return nil, err
	}
	return Start(ctx, cfg)
}
