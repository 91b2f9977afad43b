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
	f.mu.Lock()
	defer f.mu.Unlock()
	if dir, ok := f.projects[strategy]; ok {
		return dir, nil
	}
	dir := filepath.Join(f.dir, "myblog-"+strategy)
	base := filepath.Join(f.Golden, "myblog-"+strategy)
	extra := filepath.Join(f.Golden, "myblog-article")
	if _, err := os.Stat(filepath.Join(extra, "go.mod")); err != nil {
		return "", fmt.Errorf("the POST load needs golden/myblog-article: %w", err)
	}
	// db holds the migrations that create the resources' tables.
	if err := Compose(base, extra, dir, "models", "routers", "db"); err != nil {
		return "", err
	}
	f.projects[strategy] = dir
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
	bins, err := f.Versions(ctx, strategy, version)
	if err != nil {
		return nil, err
	}
	dir, _ := f.Project(strategy)
	cfg.Strategy = strategy
	cfg.Binary = filepath.Join(cfg.WorkDir, "myblog")
	cfg.ConfigFile = filepath.Join(dir, "conf", "app.ini")
	cfg.EnvPrefix = "MYBLOG"
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, err
	}
	if err := Install(bins[0], cfg.Binary); err != nil {
		return nil, err
	}
	return Start(ctx, cfg)
}
