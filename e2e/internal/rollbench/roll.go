// Package rollbench proves a rolling update lossless: several replicas of a generated server,
// each its own process on its own loopback port and all sharing one PostgreSQL database, run
// behind a real HAProxy that health-checks /readyz; under load, each replica in turn gets
// SIGTERM, drains and exits, and a replica of a rebuilt binary takes its place and must be
// reported UP before the next one is rolled. Every failed request is counted, and HAProxy's
// own retry counters are read. e2e/rolling_test.go and e2e/cmd/rollbench use it.
package rollbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// The POST of the load: golden/myblog-article's resource, added to the project under test.
const (
	PostPath   = restarttest.PostPath
	PostJSON   = restarttest.PostJSON
	PostStatus = restarttest.PostStatus
)

// Config says what to roll and how.
type Config struct {
	// Project is the generated project's source: its conf/app.ini is copied for each replica.
	Project string
	// From and To are the binaries before and after the update, answering /healthz with the
	// versions FromVersion and ToVersion.
	From, To               string
	FromVersion, ToVersion string
	// EnvPrefix is the project's settings prefix (MYBLOG).
	EnvPrefix string
	// DBEnv points every replica at the shared database (EnvPrefix_DATABASE_* variables).
	DBEnv []string
	// Replicas behind HAProxy, rolled one at a time (default 3).
	Replicas int
	// KeepAlive and Fresh clients send requests back to back through HAProxy, on kept-alive
	// connections and on a new connection per request (default 48 and 16, as restartbench);
	// every fourth request of a client is a POST.
	KeepAlive, Fresh int
	// DrainDelay is each replica's [server] DrainDelay; 0 is the baseline.
	DrainDelay time.Duration
	// ShutdownTimeout is each replica's [server] ShutdownTimeout (default 10s).
	ShutdownTimeout time.Duration
	// Subscribers follow the events of the notice resource through HAProxy during the roll,
	// half of them (rounded down) on the websocket, the others on the server-sent event
	// stream; a writer creates a notice every EventsEvery (default 20ms) meanwhile. 0: none.
	Subscribers int
	EventsEvery time.Duration
	// HAProxy is the haproxy binary.
	HAProxy string
	// NoRetry runs HAProxy with "retries 0", as a load balancer that never retries (a
	// Kubernetes Service through kube-proxy does not): what a client sees without HAProxy's
	// safety net.
	NoRetry bool
	// WorkDir holds the replicas' folders and HAProxy's configuration.
	WorkDir string
	// Log receives the replicas' and HAProxy's output (nil: discarded).
	Log io.Writer
}

// Figures are what one rolling update did.
type Figures struct {
	DrainDelay time.Duration
	NoRetry    bool
	Replicas   int
	KeepAlive  int
	Fresh      int
	// Rolls is the number of replicas replaced; RollTimes how long each took, from SIGTERM to
	// the new replica answering /readyz 200 and reported UP by HAProxy.
	Rolls     int
	RollTimes []time.Duration
	// Duration is how long the load ran.
	Duration time.Duration
	// Sent, Failed and Posts count the clients' requests; ByError names the failures.
	Sent, Failed, Posts int
	ByError             map[string]int
	// P50, P99 and Max are the latencies of the successful requests.
	P50, P99, Max time.Duration
	// StopTimes are, per replica rolled, the time from SIGTERM to its exit; SlowStops the
	// replicas that took DrainDelay plus ShutdownTimeout or more (a request or a stream
	// held the drain to its bound).
	StopTimes []time.Duration
	SlowStops int
	// Notices and NoticeErrs count the event writer's POSTs (NoticeByError the failures);
	// Events the outbox's events at the end; Streams the subscribers' figures per kind.
	Notices, NoticeErrs int
	NoticeByError       map[string]int
	Events              int
	Streams             []restarttest.StreamFigures
	// LastVersions counts the versions that answered /healthz after the last roll: only the
	// new one when the update is complete.
	LastVersions map[string]int
	// HAProxy's backend counters: connection retries, redispatches to another server,
	// connection errors, response errors, 5xx answers.
	Retries, Redispatches, ConnErrors, RespErrors, HTTP5xx int
}

func (c *Config) defaults() {
	if c.Replicas == 0 {
		c.Replicas = 3
	}
	if c.KeepAlive == 0 && c.Fresh == 0 {
		c.KeepAlive, c.Fresh = 48, 16
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.EventsEvery == 0 {
		c.EventsEvery = 20 * time.Millisecond
	}
}

// replica is one server process on its slot's port.
type replica struct {
	name   string
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

func (c *Config) startReplica(slot, gen int, port int, bin string) (*replica, error) {
	name := "app" + strconv.Itoa(slot+1)
	dir := filepath.Join(c.WorkDir, fmt.Sprintf("%s-%d", name, gen))
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		return nil, err
	}
	ini, err := os.ReadFile(filepath.Join(c.Project, "conf", "app.ini"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "app.ini"), ini, 0o644); err != nil {
		return nil, err
	}
	p := c.EnvPrefix
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(),
		p+"_SERVER_HTTPPORT="+strconv.Itoa(port),
		p+"_SERVER_DRAINDELAY="+c.DrainDelay.String(),
		p+"_SERVER_SHUTDOWNTIMEOUT="+c.ShutdownTimeout.String(),
		p+"_APP_RUNMODE=release",
		p+"_APP_LOGLEVEL=warn",
		p+"_APP_PIDFILE="+filepath.Join(dir, "server.pid"),
		// The replicas share the database server with everything else that runs there.
		p+"_DATABASE_MAXOPENCONNS=8",
		p+"_DATABASE_MAXIDLECONNS=8",
	), c.DBEnv...)
	cmd.Stdout, cmd.Stderr = c.Log, c.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start replica %s: %w", name, err)
	}
	r := &replica{name: name, port: port, cmd: cmd, exited: make(chan struct{})}
	go func() { r.err = cmd.Wait(); close(r.exited) }()
	return r, nil
}

// stop sends SIGTERM and waits for a clean exit, bounded.
func (r *replica) stop(timeout time.Duration) error {
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("replica %s: %w", r.name, err)
	}
	select {
	case <-r.exited:
		if r.err != nil {
			return fmt.Errorf("replica %s exited after SIGTERM: %w", r.name, r.err)
		}
		return nil
	case <-time.After(timeout):
		r.kill()
		return fmt.Errorf("replica %s still running %s after SIGTERM; killed", r.name, timeout)
	}
}

// kill ends the replica's process group (cleanup only).
func (r *replica) kill() {
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	<-r.exited
}

// waitReady waits until the replica answers /readyz 200.
func waitReady(ctx context.Context, r *replica, timeout time.Duration) error {
	url := "http://127.0.0.1:" + strconv.Itoa(r.port) + "/readyz"
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-r.exited:
			return errors.Join(fmt.Errorf("replica %s exited at start", r.name), r.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica %s not ready after %s", r.name, timeout)
		}
	}
}

// freePort returns a loopback port nobody listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Run starts the replicas on From behind HAProxy, rolls them all to To under load, and
// returns the figures. It stops everything it started before it returns.
func Run(ctx context.Context, cfg Config) (Figures, error) {
	cfg.defaults()
	fig := Figures{DrainDelay: cfg.DrainDelay, NoRetry: cfg.NoRetry, Replicas: cfg.Replicas, KeepAlive: cfg.KeepAlive, Fresh: cfg.Fresh}
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return fig, err
	}
	replicas := make([]*replica, cfg.Replicas)
	defer func() {
		for _, r := range replicas {
			if r != nil {
				select {
				case <-r.exited:
				default:
					r.kill()
				}
			}
		}
	}()
	var servers []haproxyServer
	for i := range replicas {
		port, err := freePort()
		if err != nil {
			return fig, err
		}
		if replicas[i], err = cfg.startReplica(i, 0, port, cfg.From); err != nil {
			return fig, err
		}
		// One at a time, as a Deployment's rollout would: replicas that start together all
		// run the schema migration at once, and PostgreSQL lets only one CREATE TABLE win.
		if err := waitReady(ctx, replicas[i], 30*time.Second); err != nil {
			return fig, err
		}
		servers = append(servers, haproxyServer{Name: replicas[i].name, Addr: "127.0.0.1:" + strconv.Itoa(port)})
	}
	front, err := freePort()
	if err != nil {
		return fig, err
	}
	bind := "127.0.0.1:" + strconv.Itoa(front)
	h, err := startHAProxy(ctx, cfg.HAProxy, cfg.WorkDir, bind, servers, cfg.NoRetry, cfg.Log)
	if err != nil {
		return fig, err
	}
	defer h.stop()
	for _, r := range replicas {
		if err := h.waitStatus(ctx, r.name, "UP", 30*time.Second); err != nil {
			return fig, fmt.Errorf("before the roll: %w", err)
		}
	}

	load := restarttest.StartLoad(ctx, restarttest.LoadConfig{
		BaseURL:    "http://" + bind,
		KeepAlive:  cfg.KeepAlive,
		Fresh:      cfg.Fresh,
		Timeout:    15 * time.Second,
		PostPath:   PostPath,
		PostBody:   []byte(PostJSON),
		PostStatus: PostStatus,
		PostEvery:  4,
	})
	base := "http://" + bind
	var subs *restarttest.Subscribers
	var writer *restarttest.Writer
	if cfg.Subscribers > 0 {
		ws := cfg.Subscribers / 2
		subs = restarttest.StartSubscribers(ctx, base, EventsPlural, cfg.Subscribers-ws, ws)
		defer subs.Stop()
		writer = restarttest.StartWriter(ctx, base, "/api/v1/"+EventsPlural, cfg.EventsEvery, func(n int) string {
			return fmt.Sprintf(`{"title":"notice %d"}`, n)
		})
		defer func() {
			if writer != nil {
				writer.Stop()
			}
		}()
	}
	started := time.Now()
	stopLoad := func() []restarttest.Result {
		res := load.Stop()
		fig.Duration = time.Since(started)
		return res
	}
	warm := time.NewTimer(time.Second)
	select {
	case <-warm.C:
	case <-ctx.Done():
		stopLoad()
		return fig, ctx.Err()
	}

	// SIGTERM, drain, exit; a new replica of To on the same port, UP; the next one.
	stopBound := cfg.DrainDelay + cfg.ShutdownTimeout + 10*time.Second
	for i, old := range replicas {
		t0 := time.Now()
		if err := old.stop(stopBound); err != nil {
			stopLoad()
			return fig, err
		}
		fig.StopTimes = append(fig.StopTimes, time.Since(t0))
		if fig.StopTimes[len(fig.StopTimes)-1] >= cfg.DrainDelay+cfg.ShutdownTimeout {
			fig.SlowStops++
		}
		nr, err := cfg.startReplica(i, 1, old.port, cfg.To)
		if err != nil {
			stopLoad()
			return fig, err
		}
		replicas[i] = nr
		// Ready itself first: without DrainDelay the old replica can be gone and replaced
		// before HAProxy's checks noticed, and HAProxy would still say UP from before.
		if err := waitReady(ctx, nr, 30*time.Second); err != nil {
			stopLoad()
			return fig, err
		}
		if err := h.waitStatus(ctx, nr.name, "UP", 30*time.Second); err != nil {
			stopLoad()
			return fig, fmt.Errorf("roll %s: %w", nr.name, err)
		}
		fig.Rolls++
		fig.RollTimes = append(fig.RollTimes, time.Since(t0))
	}
	rolled := time.Now()
	tail := time.NewTimer(time.Second)
	select {
	case <-tail.C:
	case <-ctx.Done():
	}
	results := stopLoad()
	if writer != nil {
		fig.Notices, fig.NoticeErrs, fig.NoticeByError = writer.Stop()
		writer = nil
		if err := fig.followed(ctx, base, subs); err != nil {
			return fig, err
		}
	}

	st, err := h.stats()
	if err != nil {
		return fig, err
	}
	b := st["BACKEND"]
	fig.Retries, fig.Redispatches, fig.ConnErrors, fig.RespErrors, fig.HTTP5xx = b.Retries, b.Redispatches, b.ConnErrors, b.RespErrors, b.HTTP5xx

	sum := restarttest.Summarize(results)
	fig.Sent, fig.Failed, fig.ByError = sum.Sent, sum.Failed, sum.ByError
	fig.LastVersions = map[string]int{}
	var lat []time.Duration
	for _, r := range results {
		if r.Post {
			fig.Posts++
		}
		if r.Err != "" {
			continue
		}
		lat = append(lat, r.Latency)
		if r.Start.After(rolled) && r.Version != "" {
			fig.LastVersions[r.Version]++
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		fig.P50 = lat[len(lat)/2]
		fig.P99 = lat[len(lat)*99/100]
		fig.Max = lat[len(lat)-1]
	}
	return fig, nil
}

// followed reads the outbox through HAProxy (every event: the database may hold an earlier
// run's too, which the subscribers replayed from ?after=0), lets the subscribers catch up
// with its last event (20s at most), stops them and sums them up.
func (fig *Figures) followed(ctx context.Context, base string, subs *restarttest.Subscribers) error {
	want, err := restarttest.ReadEvents(ctx, base, EventsPlural, math.MaxInt, time.Second)
	fig.Events = len(want)
	if err != nil {
		return err
	}
	if len(want) < fig.Notices {
		return fmt.Errorf("the outbox holds %d events, the writer created %d notices", len(want), fig.Notices)
	}
	if len(want) > 0 {
		subs.CatchUp(want[len(want)-1], 20*time.Second)
	}
	subs.Stop()
	fig.Streams = subs.Figures(want)
	return nil
}
