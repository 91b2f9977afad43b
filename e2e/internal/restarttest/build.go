// Package restarttest drives generated projects through restarts under load and counts
// every request that fails. The end-to-end tests and the restart benchmark
// (e2e/cmd/restartbench) use it.
package restarttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gingen/gingen/generator"
)

// Build compiles the project in dir into out with main.version stamped to version, with the
// build tags of the generated Makefile (generator.BuildTags). The
// binary is written beside out and renamed over it, as a deploy would, so a running process
// keeps its old binary while the next restart picks up the new one. flags go to go build
// before the package.
func Build(ctx context.Context, dir, out, version string, flags ...string) error {
	tmp := out + ".new"
	args := append([]string{"build", "-tags", generator.BuildTags, "-ldflags", "-X main.version=" + version, "-o", tmp}, flags...)
	cmd := GoCmd(ctx, dir, append(args, ".")...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", dir, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("build %s: %w", dir, err)
	}
	return nil
}

// Stub programs that stand in for a broken deploy of the new binary.
const (
	// failingMain exits with status 1 at start, like a binary that cannot read its config.
	failingMain = `package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "failing: broken build, exiting")
	os.Exit(1)
}
`
	// hangingMain starts and never becomes ready, like a binary stuck opening its database.
	// It exits by itself after a minute so that a harness bug cannot leak it for long.
	hangingMain = `package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Fprintln(os.Stderr, "hanging: started, never ready")
	time.Sleep(time.Minute)
	os.Exit(3)
}
`
)

// BuildFailing writes a binary at out that exits with status 1 at start, as a broken deploy
// would.
func BuildFailing(ctx context.Context, workDir, out string) error {
	return buildStub(ctx, filepath.Join(workDir, "failing"), out, failingMain)
}

// BuildHanging writes a binary at out that starts and never becomes ready (it sleeps a
// minute, then exits 3), as a deploy whose database never answers would.
func BuildHanging(ctx context.Context, workDir, out string) error {
	return buildStub(ctx, filepath.Join(workDir, "hanging"), out, hangingMain)
}

func buildStub(ctx context.Context, src, out, main string) error {
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	files := map[string]string{"go.mod": "module stub\n\ngo 1.26\n", "main.go": main}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return Build(ctx, src, out, "stub")
}

// Builder builds each (project, version) binary once (static: GoEnv turns cgo off), so that the tests and
// benchmark runs that need the same binary share one build, and deploys copies of them.
// Different binaries build at the same time; callers that need the same one wait for its one
// build. A failed build is not kept: the callers waiting for it get its error, the next
// caller tries again.
type Builder struct {
	// Flags are go build's flags for every project binary (not the stubs), such as
	// -trimpath; set them before the first build.
	Flags  []string
	dir    string
	mu     sync.Mutex
	bins   map[string]*buildOnce
	next   int
	builds int
	took   time.Duration
}

// buildOnce is one binary: done is closed when its build has ended, with out or err set.
type buildOnce struct {
	done chan struct{}
	out  string
	err  error
}

// NewBuilder keeps its binaries in dir.
func NewBuilder(dir string) *Builder {
	return &Builder{dir: dir, bins: map[string]*buildOnce{}}
}

// Binary returns the path of the project in dir built with version stamped in. Do not run
// or replace that file: Install a copy of it where the server runs.
func (b *Builder) Binary(ctx context.Context, dir, version string) (string, error) {
	return b.cached(ctx, dir+"\x00"+version, func(out string) error { return Build(ctx, dir, out, version, b.Flags...) })
}

// Failing returns the path of a binary that exits with status 1 at start (see BuildFailing).
func (b *Builder) Failing(ctx context.Context) (string, error) {
	return b.cached(ctx, "\x00failing", func(out string) error { return BuildFailing(ctx, b.dir, out) })
}

// Hanging returns the path of a binary that never becomes ready (see BuildHanging).
func (b *Builder) Hanging(ctx context.Context) (string, error) {
	return b.cached(ctx, "\x00hanging", func(out string) error { return BuildHanging(ctx, b.dir, out) })
}

// Stats says how many binaries the builder built and the time their builds took, added up
// (builds that overlap count in full).
func (b *Builder) Stats() (builds int, took time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.builds, b.took
}

// cached returns the binary of key, built by build the first time.
func (b *Builder) cached(ctx context.Context, key string, build func(out string) error) (string, error) {
	b.mu.Lock()
	if o, ok := b.bins[key]; ok {
		b.mu.Unlock()
		select {
		case <-o.done:
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for a build: %w", ctx.Err())
		}
		if o.err != nil {
			return "", o.err
		}
		return o.out, nil
	}
	o := &buildOnce{done: make(chan struct{}), out: filepath.Join(b.dir, fmt.Sprintf("bin-%d", b.next))}
	b.next++
	b.bins[key] = o
	b.mu.Unlock()

	began := time.Now()
	o.err = build(o.out)
	b.mu.Lock()
	b.builds++
	b.took += time.Since(began)
	if o.err != nil {
		delete(b.bins, key)
	}
	b.mu.Unlock()
	close(o.done)
	if o.err != nil {
		return "", o.err
	}
	return o.out, nil
}

// Install deploys the binary src at dst as a deploy should: written beside dst, then renamed
// over it, so a process running dst keeps its binary and the next start runs the new one.
// The copy is a hard link when possible.
func Install(src, dst string) error {
	tmp := dst + ".new"
	_ = os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := copyFile(src, tmp, 0o755); err != nil {
			return fmt.Errorf("install %s: %w", dst, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	return nil
}

// Compose writes into out a copy of the project base with the folders named in overlay
// replaced by those of the project extra. The golden trees of one project differ only in
// their strategy's files, so base = golden/myblog-supervisor, extra = golden/myblog-article
// (the fork project plus `gingen add resource`) and overlay = models, routers, db gives the
// supervisor project with those resources: what `gingen add resource` makes of it.
func Compose(base, extra, out string, overlay ...string) error {
	if err := copyTree(base, out); err != nil {
		return fmt.Errorf("compose %s: %w", out, err)
	}
	for _, dir := range overlay {
		if err := os.RemoveAll(filepath.Join(out, dir)); err != nil {
			return fmt.Errorf("compose %s: %w", out, err)
		}
		if err := copyTree(filepath.Join(extra, dir), filepath.Join(out, dir)); err != nil {
			return fmt.Errorf("compose %s: %w", out, err)
		}
	}
	return nil
}

// copyTree copies the regular files under src to dst, skipping what a build leaves behind
// (the project's binary, its database and PID file are not part of a golden tree anyway).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return copyFile(path, target, info.Mode().Perm())
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
