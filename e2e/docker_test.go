package e2e

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// No Docker engine runs where these tests run, so the image is never built. Instead the test
// reads the generated Dockerfile, runs its build stage's commands on the host (in a copy of the
// build context that .dockerignore allows), lays out the final stage's files the way its COPY
// lines say, and runs the result as the image would: its ENTRYPOINT and CMD, its ENV, as its
// USER, stopped with its STOPSIGNAL.

// dockerDrainDelay is the DrainDelay the laid-out images run with.
const dockerDrainDelay = 2 * time.Second

// statusOf returns the status of a GET on a new connection, 0 when it fails.
func statusOf(ctx context.Context, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

// parseDockerfile returns the instructions of each stage.
func parseDockerfile(t *testing.T, path string) [][]instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]instruction
	var line string
	for _, raw := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(raw)
		if line == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			line += cont + " "
			continue
		}
		line += trimmed
		cmd, args, _ := strings.Cut(line, " ")
		line = ""
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %s before the first FROM", path, in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	return stages
}

// find returns the args of every instruction cmd of a stage.
func find(stage []instruction, cmd string) []string {
	var out []string
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// dockerIgnored reports whether .dockerignore's patterns leave rel (slash-separated) out of
// the build context: a pattern matches the path or one of its parent folders.
func dockerIgnored(patterns []string, rel string) bool {
	for _, p := range patterns {
		p = strings.Trim(p, "/")
		for dir := rel; dir != "."; dir = filepath.Dir(dir) {
			if ok, _ := filepath.Match(p, dir); ok {
				return true
			}
		}
	}
	return false
}

// TestDockerfileBuildsAStaticNonRootImage checks the Dockerfile of a golden project of every
// strategy: a multi-stage build onto an empty image, a static binary (no ELF interpreter, no
// shared library), a non-root USER, STOPSIGNAL SIGTERM, an exec-form ENTRYPOINT; a build
// context without binaries, databases or VCS data; and the laid-out image runs as its user,
// restarts its worker on SIGHUP (supervisor: the only strategy whose PID 1 stays), and on its
// STOPSIGNAL answers /readyz 503 while it keeps serving for DrainDelay, then exits 0.
func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the golden projects")
	}
	for _, golden := range []string{"myblog-fork", "myblog-supervisor", "myblog-systemd"} {
		t.Run(golden, func(t *testing.T) {
			checkDockerImage(t, filepath.Join("..", "golden", golden), manifestValue(t, filepath.Join("..", "golden", golden), "strategy"))
		})
	}
}

func checkDockerImage(t *testing.T, project, strategy string) {
	// A cold static build of the SQLite driver alone takes minutes on a busy 2-core machine.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	stages := parseDockerfile(t, filepath.Join(project, "Dockerfile"))
	if len(stages) != 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	build, final := stages[0], stages[1]
	if from := build[0].args; !regexp.MustCompile(`^golang:1\.\d+\S* AS build$`).MatchString(from) {
		t.Errorf("build stage FROM %q, want a Go image named build", from)
	}
	if from := final[0].args; from != "scratch" {
		t.Errorf("runtime stage FROM %q, want scratch: a static binary needs no base image", from)
	}
	user := find(final, "USER")
	if len(user) != 1 || !regexp.MustCompile(`^[1-9]\d*:[1-9]\d*$`).MatchString(user[0]) {
		t.Fatalf("runtime USER %v, want one numeric non-root uid:gid (scratch has no user names)", user)
	}
	uid, _ := strconv.Atoi(strings.Split(user[0], ":")[0])
	if got := find(final, "STOPSIGNAL"); len(got) != 1 || got[0] != "SIGTERM" {
		t.Errorf("STOPSIGNAL %v, want SIGTERM (the master drains on it)", got)
	}
	if got := find(final, "EXPOSE"); len(got) != 1 || got[0] != "8000" {
		t.Errorf("EXPOSE %v, want the port, 8000", got)
	}
	var entrypoint, cmdArgs []string
	for _, v := range []struct {
		name string
		dst  *[]string
	}{{"ENTRYPOINT", &entrypoint}, {"CMD", &cmdArgs}} {
		got := find(final, v.name)
		if len(got) != 1 || json.Unmarshal([]byte(got[0]), v.dst) != nil {
			t.Fatalf("%s %v, want one exec form (a JSON array): no shell, so the master is PID 1", v.name, got)
		}
	}

	// The build context: what .dockerignore leaves of the project, plus the litter of a
	// working copy, which it must leave out.
	raw, err := os.ReadFile(filepath.Join(project, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, litter := range []string{"myblog", "data/myblog.db", ".git/HEAD", "myblog.pid", "app.log"} {
		if !dockerIgnored(patterns, litter) {
			t.Errorf(".dockerignore lets %s into the build context", litter)
		}
	}
	root := t.TempDir()
	src := filepath.Join(root, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(project, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(project, p)
		if err != nil || rel == "." {
			return err
		}
		if dockerIgnored(patterns, filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(src, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(src, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []string{"go.mod", "main.go", "conf/app.ini"} {
		if _, err := os.Stat(filepath.Join(src, need)); err != nil {
			t.Errorf(".dockerignore leaves %s out of the build context", need)
		}
	}

	// The build stage's RUN lines, on the host: /src is the context, /out a folder of ours,
	// ARGs from --build-arg or their defaults.
	out := filepath.Join(root, "out")
	args := map[string]string{}
	for _, a := range find(build, "ARG") {
		name, def, _ := strings.Cut(a, "=")
		args[name] = def
	}
	args["VERSION"] = "v-docker"
	for _, run := range find(build, "RUN") {
		script := strings.ReplaceAll(run, "/out", out)
		cmd := exec.CommandContext(ctx, "sh", "-c", script)
		cmd.Dir = src
		cmd.Env = restarttest.GoEnv(src) // the RUN lines run go build
		for k, v := range args {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("RUN %s: %v\n%s", run, err, b)
		}
	}

	// The runtime stage's files, laid out under app/ as its COPY lines say.
	image := filepath.Join(root, "image")
	from := func(p string) string {
		switch {
		case strings.HasPrefix(p, "/out/"):
			return filepath.Join(out, strings.TrimPrefix(p, "/out/"))
		case strings.HasPrefix(p, "/src/"):
			return filepath.Join(src, strings.TrimPrefix(p, "/src/"))
		}
		return p // from the Go image itself, e.g. CA certificates: the host's stand in
	}
	for _, c := range find(final, "COPY") {
		fields := strings.Fields(c)
		var paths []string
		for _, f := range fields {
			if !strings.HasPrefix(f, "--") {
				paths = append(paths, f)
			}
		}
		if !strings.HasPrefix(fields[0], "--from=build") {
			t.Fatalf("COPY %s: the runtime stage copies only from the build stage", c)
		}
		dst := filepath.Join(image, paths[len(paths)-1])
		for _, p := range paths[:len(paths)-1] {
			target := dst
			if strings.HasSuffix(paths[len(paths)-1], "/") {
				target = filepath.Join(dst, filepath.Base(p))
			}
			if _, err := os.Stat(from(p)); err != nil {
				t.Fatalf("COPY %s: the build stage made no %s", c, p)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command("cp", "-a", from(p), target).CombinedOutput(); err != nil {
				t.Fatalf("cp %s %s: %v\n%s", from(p), target, err, b)
			}
		}
		if owner, ok := strings.CutPrefix(fields[1], "--chown="); ok && os.Geteuid() == 0 {
			ids := strings.Split(owner, ":")
			u, _ := strconv.Atoi(ids[0])
			g, _ := strconv.Atoi(ids[1])
			if err := os.Chown(dst, u, g); err != nil {
				t.Fatal(err)
			}
		}
	}
	passwd, err := os.ReadFile(filepath.Join(image, "etc", "passwd"))
	if err != nil || !strings.Contains(string(passwd), ":"+strconv.Itoa(uid)+":") {
		t.Errorf("the image's /etc/passwd %q (%v) does not name USER %d", passwd, err, uid)
	}

	// A static binary: no ELF interpreter, no shared library.
	bin := filepath.Join(image, entrypoint[0])
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s asks for an ELF interpreter: not static, it cannot run on scratch", entrypoint[0])
		}
	}
	f.Close()
	if len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v: not static", entrypoint[0], libs)
	}

	// Run it as the image would: ENTRYPOINT + CMD in WORKDIR, with ENV, as USER.
	workdir := filepath.Join(image, find(final, "WORKDIR")[0])
	var argv []string
	for _, a := range cmdArgs {
		if strings.HasPrefix(a, "/") {
			a = filepath.Join(image, a)
		}
		argv = append(argv, a)
	}
	port := closedPort(t)
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Dir = workdir
	cmd.Env = append(os.Environ(), "MYBLOG_SERVER_HTTPPORT="+strconv.Itoa(port), "MYBLOG_SERVER_SHUTDOWNTIMEOUT=5s",
		"MYBLOG_SERVER_DRAINDELAY="+dockerDrainDelay.String())
	cmd.Env = append(cmd.Env, find(final, "ENV")...)
	log := logFile(t)
	cmd.Stdout, cmd.Stderr = log, log
	if os.Geteuid() == 0 {
		// The image's user must reach its files, as it would in the image.
		makeReachable(t, root)
		gid, _ := strconv.Atoi(strings.Split(user[0], ":")[1])
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	health := &healthClient{baseURL: "http://127.0.0.1:" + strconv.Itoa(port)}
	first, err := health.wait(ctx, 20*time.Second, func(restarttest.Health) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if first.Version != "v-docker" {
		t.Errorf("version %q, want the --build-arg VERSION, v-docker", first.Version)
	}
	if os.Geteuid() == 0 {
		if got := processUID(t, first.PID); got != strconv.Itoa(uid) {
			t.Errorf("the worker runs as uid %s, want USER %d", got, uid)
		}
	}
	if strategy == "supervisor" {
		// docker kill --signal=HUP: a new worker, the same master.
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if _, err := health.wait(ctx, 20*time.Second, func(h restarttest.Health) bool { return h.PID != first.PID }); err != nil {
			t.Fatalf("after SIGHUP: %v", err)
		}
	}
	// docker stop: STOPSIGNAL; /readyz fails at once while everything else is served on new
	// connections for DrainDelay; then a clean exit.
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if code := statusOf(ctx, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz answered %d before the stop, want 200", code)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopAt := time.Now()
	notReady := false
	for time.Since(stopAt) < dockerDrainDelay/2 {
		switch code := statusOf(ctx, base+"/readyz"); code {
		case http.StatusServiceUnavailable:
			notReady = true
		case http.StatusOK:
			if notReady {
				t.Fatal("/readyz answered 200 again after 503 during the drain delay")
			}
		default:
			t.Fatalf("/readyz answered %d (0: refused) during the drain delay, want 503 while still serving", code)
		}
		if code := statusOf(ctx, base+"/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz answered %d during the drain delay, want 200: the server must keep serving", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !notReady {
		t.Error("/readyz never answered 503 after SIGTERM")
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
		if waited := time.Since(stopAt); waited < dockerDrainDelay {
			t.Errorf("exited %s after SIGTERM, before DrainDelay %s was over", waited, dockerDrainDelay)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30s after SIGTERM, the STOPSIGNAL")
	}
}

// composeFile is the part of the Compose specification that the generated compose.yaml
// uses; decoding it with KnownFields catches a misspelt key.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Build *struct {
		Context string            `yaml:"context"`
		Args    map[string]string `yaml:"args"`
	} `yaml:"build"`
	Image       string            `yaml:"image"`
	Ports       []string          `yaml:"ports"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	ReadOnly        bool     `yaml:"read_only"`
	Tmpfs           []string `yaml:"tmpfs"`
	StopGracePeriod string   `yaml:"stop_grace_period"`
	Healthcheck     *struct {
		Test     []string `yaml:"test"`
		Interval string   `yaml:"interval"`
		Timeout  string   `yaml:"timeout"`
		Retries  int      `yaml:"retries"`
	} `yaml:"healthcheck"`
}

// TestComposeFileRunsTheChosenDatabase checks compose.yaml of every golden tree: the app is
// built from the Dockerfile, overrides only settings that exist, waits for a healthy database
// server with matching credentials (or keeps SQLite on a named volume), and is given time to
// drain when stopped.
func TestComposeFileRunsTheChosenDatabase(t *testing.T) {
	for _, dir := range goldenDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var cf composeFile
			dec := yaml.NewDecoder(bytes.NewReader(b))
			dec.KnownFields(true)
			if err := dec.Decode(&cf); err != nil {
				t.Fatalf("compose.yaml: %v", err)
			}
			appIni, err := os.ReadFile(filepath.Join(dir, "conf", "app.ini"))
			if err != nil {
				t.Fatal(err)
			}
			ini := string(appIni)
			db := manifestValue(t, dir, "db")
			prefix := strings.ToUpper(strings.ReplaceAll(manifestValue(t, dir, "name"), "-", "_"))
			app, ok := cf.Services["app"]
			if !ok || app.Build == nil || app.Build.Context != "." {
				t.Fatalf("no service app built from . (the Dockerfile): %+v", app)
			}
			for k := range app.Environment {
				rest, ok := strings.CutPrefix(k, prefix+"_")
				section, key, ok2 := strings.Cut(rest, "_")
				if !ok || !ok2 || !regexp.MustCompile(`(?im)^\[`+section+`\]`).MatchString(ini) ||
					!regexp.MustCompile(`(?im)^`+key+`\s*=`).MatchString(ini) {
					t.Errorf("environment %s overrides no setting of conf/app.ini", k)
				}
			}
			shutdown, _ := time.ParseDuration(iniValue(t, ini, "server", "ShutdownTimeout"))
			delay, _ := time.ParseDuration(app.Environment[prefix+"_SERVER_DRAINDELAY"])
			grace, err := time.ParseDuration(app.StopGracePeriod)
			if err != nil || grace < shutdown+delay+5*time.Second {
				t.Errorf("stop_grace_period %q, want at least ShutdownTimeout %s + DrainDelay %s + 5s", app.StopGracePeriod, shutdown, delay)
			}
			if !app.ReadOnly {
				t.Error("app is not read_only: the image must run on a read-only root, as in Kubernetes")
			}
			if db == "sqlite" {
				if len(app.Volumes) != 1 || !strings.HasSuffix(app.Volumes[0], ":/app/data") {
					t.Fatalf("app volumes %v, want a named volume on /app/data (the SQLite file)", app.Volumes)
				}
				if _, ok := cf.Volumes[strings.TrimSuffix(app.Volumes[0], ":/app/data")]; !ok {
					t.Errorf("volume %s is not declared", app.Volumes[0])
				}
				if len(cf.Services) != 1 {
					t.Errorf("%d services with SQLite, want the app alone", len(cf.Services))
				}
				return
			}
			dbSvc, ok := cf.Services["db"]
			if !ok || dbSvc.Healthcheck == nil || len(dbSvc.Healthcheck.Test) == 0 {
				t.Fatalf("no db service with a healthcheck: %+v", dbSvc)
			}
			if app.DependsOn["db"].Condition != "service_healthy" {
				t.Errorf("app depends_on %+v, want db: service_healthy", app.DependsOn)
			}
			if app.Environment[prefix+"_DATABASE_HOST"] != "db" {
				t.Errorf("DATABASE_HOST %q, want the db service", app.Environment[prefix+"_DATABASE_HOST"])
			}
			want := map[string]string{
				"postgres": "POSTGRES",
				"mysql":    "MARIADB",
			}[db]
			if !strings.HasPrefix(dbSvc.Image, map[string]string{"postgres": "postgres:", "mysql": "mariadb:"}[db]) {
				t.Errorf("db image %q for --db %s", dbSvc.Image, db)
			}
			for env, setting := range map[string]string{want + "_USER": iniValue(t, ini, "database", "User"), want + "_PASSWORD": app.Environment[prefix+"_DATABASE_PASSWORD"]} {
				if dbSvc.Environment[env] != setting || setting == "" {
					t.Errorf("db %s %q, the app uses %q", env, dbSvc.Environment[env], setting)
				}
			}
			dbName := map[string]string{"postgres": "POSTGRES_DB", "mysql": "MARIADB_DATABASE"}[db]
			if dbSvc.Environment[dbName] != iniValue(t, ini, "database", "Name") {
				t.Errorf("db %s %q, app.ini Name %q", dbName, dbSvc.Environment[dbName], iniValue(t, ini, "database", "Name"))
			}
		})
	}
}
