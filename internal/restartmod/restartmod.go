// Package restartmod publishes this checkout's restart library to a module proxy of its own,
// for tests and CI to build golden and generated projects as a user's machine will once the
// library is released. A project requires github.com/gingen/gingen/restart at the version
// gingen releases it with (generator.RestartVersion), and its go.sum holds the hashes of that
// version's zip and go.mod. Env serves the checkout's restart/ folder at that version from a
// file-based GOPROXY, zipped by the rules the Go module proxy follows (golang.org/x/mod/zip),
// in front of the usual proxy: the go command then downloads it and checks it against the
// project's go.sum like any other module, so a library changed without its go.sum lines
// (go run ./internal/depsgen) fails the build.
package restartmod

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// Path is the library's module path.
const Path = "github.com/gingen/gingen/restart"

// Dir is the checkout's restart library: the folder restart/ at the repository's root.
func Dir() string {
	_, file, _, _ := runtime.Caller(0) // .../internal/restartmod/restartmod.go
	return filepath.Join(filepath.Dir(file), "..", "..", "restart")
}

// Sum returns the two go.sum lines of the restart library in dir at version: the hash of its
// module zip and of its go.mod, as the Go module proxy serves them once the version is tagged.
func Sum(dir, version string) ([]string, error) {
	zipFile, err := os.CreateTemp("", "restart-*.zip")
	if err != nil {
		return nil, err
	}
	defer os.Remove(zipFile.Name())
	if err := zipFile.Close(); err != nil {
		return nil, err
	}
	zipHash, modHash, err := writeZip(dir, version, zipFile.Name())
	if err != nil {
		return nil, err
	}
	return []string{Path + " " + version + " " + zipHash, Path + " " + version + "/go.mod " + modHash}, nil
}

// writeZip writes the module zip of the library in dir at version to out and returns its hash
// and its go.mod's.
func writeZip(dir, version, out string) (zipHash, modHash string, err error) {
	f, err := os.Create(out)
	if err != nil {
		return "", "", err
	}
	if err := zip.CreateFromDir(f, module.Version{Path: Path, Version: version}, dir); err != nil {
		f.Close()
		return "", "", fmt.Errorf("zip the restart library in %s: %w", dir, err)
	}
	if err := f.Close(); err != nil {
		return "", "", err
	}
	if zipHash, err = dirhash.HashZip(out, dirhash.Hash1); err != nil {
		return "", "", fmt.Errorf("hash the restart library's zip: %w", err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", "", err
	}
	modHash, err = dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gomod)), nil
	})
	return zipHash, modHash, err
}

// published is the proxy of this process, made once: every test of a package and every
// command of a bench run builds against the same one.
var published struct { //nolint:gochecknoglobals // a process-wide sync.Once, the cache of Env

	once sync.Once
	env  []string
	err  error
}

// Env returns the environment entries under which the go command finds the checkout's
// restart library at version as if it were published: GOPROXY with a file-based proxy of
// its own first, and GONOSUMDB, since the checksum database does not know it. The proxy is
// written once per process under the system's temporary folder. A copy of that version that
// an earlier run left in the module cache with other content is removed first: the module
// cache never changes a version it holds, and the library's content changes between
// releases. For the same reason the entries turn off the go command's module index
// (GODEBUG=goindex=0): it remembers the files of a module cache folder by its path and
// version, so a re-extracted version with a file more or less would be built with the old
// list ("undefined: newStreams" when restart/ gained stream.go).
//
// The entries also turn cgo off (CGO_ENABLED=0): projects are built static, as the generated
// Dockerfile ships them and as a container with another libc (e2e/realsystemd's) needs them.
// One variant of every package for all the tests, whatever they run: with cgo on by default
// and off where a test needed a static binary, every package above net (gin, gorm, the
// database drivers, OpenTelemetry...) compiled twice on a cold machine.
func Env(version string) ([]string, error) {
	published.once.Do(func() { published.env, published.err = publish(version) })
	return published.env, published.err
}

func publish(version string) ([]string, error) {
	// The proxy is built in a folder of its own, then renamed to one named after the zip's
	// hash: processes that publish the same content share it, and none sees it half-written.
	work, err := os.MkdirTemp("", "gingen-goproxy-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	at := filepath.Join(work, filepath.FromSlash(Path), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return nil, err
	}
	zipHash, _, err := writeZip(Dir(), version, filepath.Join(at, version+".zip"))
	if err != nil {
		return nil, err
	}
	gomod, err := os.ReadFile(filepath.Join(Dir(), "go.mod"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".mod":  gomod,
		version + ".info": fmt.Appendf(nil, `{"Version":%q,"Time":%q}`+"\n", version, time.Now().UTC().Format(time.RFC3339)),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(at, name), body, 0o644); err != nil {
			return nil, err
		}
	}
	key := sha256.Sum256([]byte(version + " " + zipHash))
	dir := filepath.Join(os.TempDir(), "gingen-goproxy", hex.EncodeToString(key[:8]))
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(work, dir); err != nil {
			if _, statErr := os.Stat(dir); statErr != nil { // not another process's rename
				return nil, fmt.Errorf("publish the restart library: %w", err)
			}
		}
	}
	if err := dropStaleCache(version, zipHash); err != nil {
		return nil, err
	}
	upstream, err := goEnv("GOPROXY")
	if err != nil {
		return nil, err
	}
	proxy := "file://" + filepath.ToSlash(dir)
	if upstream != "" && upstream != "off" {
		proxy += "," + upstream
	}
	return []string{"GOPROXY=" + proxy, "GONOSUMDB=" + Path, "GODEBUG=goindex=0", "CGO_ENABLED=0"}, nil
}

// Upstream is this machine's module proxy list without the file-based proxies Env adds (a
// caller's environment may carry them): where a project that needs nothing of this checkout
// gets its modules. "off" when nothing is left.
func Upstream() (string, error) {
	proxy, err := goEnv("GOPROXY")
	if err != nil {
		return "", err
	}
	var keep []string
	for _, p := range strings.FieldsFunc(proxy, func(r rune) bool { return r == ',' || r == '|' }) {
		if !strings.HasPrefix(p, "file://") {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return "off", nil
	}
	return strings.Join(keep, ","), nil
}

// dropStaleCache removes version of the library from the module cache when the cache holds
// it with another zip hash than want.
func dropStaleCache(version, want string) error {
	cache, err := goEnv("GOMODCACHE")
	if err != nil || cache == "" {
		return err
	}
	esc, err := module.EscapePath(Path)
	if err != nil {
		return err
	}
	dl := filepath.Join(cache, "cache", "download", filepath.FromSlash(esc), "@v")
	got, err := os.ReadFile(filepath.Join(dl, version+".ziphash"))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && strings.TrimSpace(string(got)) == want) {
		return nil
	}
	extracted := filepath.Join(cache, filepath.FromSlash(esc)+"@"+version)
	_ = filepath.WalkDir(extracted, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755) //nolint:gosec // G122: the module cache's own folders, no one else's; the cache makes them read-only
		}
		return nil
	})
	if err := os.RemoveAll(extracted); err != nil {
		return fmt.Errorf("remove the stale restart library %s: %w", extracted, err)
	}
	stale, err := filepath.Glob(filepath.Join(dl, version+".*"))
	if err != nil {
		return err
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("remove the stale restart library %s: %w", p, err)
		}
	}
	return nil
}

func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// TrimpathGOFLAGS returns GOFLAGS=flags with -trimpath and -buildvcs=false added where
// missing: how every test builds, vets and tests a generated project. Without -trimpath, a
// compiled package's cache key holds its folder, so the same package of two projects (the
// golden trees, the projects the tests generate in temporary folders) compiled twice, and
// every test binary with it: with it, a package the same in both, with the same
// dependencies, compiles once per machine. Measured on two golden trees that differ in their
// strategy (fork, then supervisor; go build, vet and test -count=1): the second took 26
// CPU-seconds with -trimpath against 105 without. The release builds (Dockerfile,
// realsystemd's fixtures) and CI's lint of the golden trees (goenv) use -trimpath too, so the
// dependencies compile once for all of them. -buildvcs=false: a GOFLAGS variable replaces
// the go env file's (where a machine may set it), and a test build needs no VCS stamp of
// the checkout it runs in.
func TrimpathGOFLAGS(flags string) string {
	fields := strings.Fields(flags)
	name := func(flag string) string { n, _, _ := strings.Cut(flag, "="); return n }
	for _, add := range []string{"-trimpath", "-buildvcs=false"} {
		// A flag flags already sets, to any value, stays as flags set it.
		if !slices.ContainsFunc(fields, func(f string) bool { return name(f) == name(add) }) {
			fields = append(fields, add)
		}
	}
	return "GOFLAGS=" + strings.Join(fields, " ")
}

// ProjectEnv returns the environment of a go command on a golden or generated project, as
// every test builds, vets and tests one: this process's environment, Env(version) (the
// checkout's restart library, cgo off), and GOFLAGS=goflags with -trimpath and
// -buildvcs=false added (TrimpathGOFLAGS). Entries a caller appends after these win.
func ProjectEnv(version, goflags string) ([]string, error) {
	env, err := Env(version)
	if err != nil {
		return nil, err
	}
	return append(append(os.Environ(), env...), TrimpathGOFLAGS(goflags)), nil
}
