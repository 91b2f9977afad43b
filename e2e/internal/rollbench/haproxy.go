package rollbench

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"
)

// HAProxyConfig is the template of the configuration the benchmark runs HAProxy with: what a user would ship
// in front of several replicas, with health checks on /readyz. Its comments say why each
// retry and check option is there; the report quotes them.
const HAProxyConfig = `global
    maxconn 4096
    # The benchmark reads the servers' states and counters here (show stat).
    stats socket {{.Socket}} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 10s
    # Event streams last. A server-sent event stream is a response the server keeps writing
    # to: "timeout server" and "timeout client" bound its silences, and the server sends a
    # keep-alive comment every 15s. A websocket, once upgraded, is a tunnel that only
    # "timeout tunnel" bounds (the server pings it every 15s); without it the 30s above would
    # apply, one missed ping from a cut.
    timeout tunnel 1h
    # A connection that is refused or times out never reached a server: trying it again is
    # safe even for a POST, and "option redispatch 1" makes every retry pick another server
    # (the one refusing is most likely going away). Nothing is retried once a request was
    # sent (retry-on conn-failure only): a POST might run twice.
{{- if .NoRetry}}
    retries 0
{{- else}}
    retries 3
    retry-on conn-failure
    option redispatch 1
{{- end}}

frontend www
    bind {{.Bind}}
    default_backend app

backend app
    balance roundrobin
    # Readiness: a replica answers /readyz 503 from the moment it is told to stop; two failed
    # checks 500ms apart take it out of rotation, two good ones put a new replica in.
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 500ms fall 2 rise 2
{{- range .Servers}}
    server {{.Name}} {{.Addr}}
{{- end}}
`

// haproxyServer is one backend server line.
type haproxyServer struct{ Name, Addr string }

func renderHAProxyConfig(socket, bind string, servers []haproxyServer, noRetry bool) (string, error) {
	var cfg strings.Builder
	err := template.Must(template.New("haproxy").Parse(HAProxyConfig)).Execute(&cfg, struct {
		Socket, Bind string
		Servers      []haproxyServer
		NoRetry      bool
	}{socket, bind, servers, noRetry})
	if err != nil {
		return "", fmt.Errorf("haproxy configuration: %w", err)
	}
	return cfg.String(), nil
}

// ExampleHAProxyConfig is the configuration as a user would ship it (with retries), for
// replicas on 127.0.0.1:8001, 8002..., HAProxy on 127.0.0.1:8080: the report quotes it.
func ExampleHAProxyConfig(replicas int) (string, error) {
	var servers []haproxyServer
	for i := 1; i <= replicas; i++ {
		servers = append(servers, haproxyServer{Name: "app" + strconv.Itoa(i), Addr: "127.0.0.1:" + strconv.Itoa(8000+i)})
	}
	return renderHAProxyConfig("/run/haproxy/admin.sock", "127.0.0.1:8080", servers, false)
}

// haproxy is a private HAProxy on loopback, run in the foreground.
type haproxy struct {
	cmd    *exec.Cmd
	socket string
	bind   string
	exited chan struct{}
	err    error
}

// startHAProxy writes the configuration into dir and starts bin on it.
func startHAProxy(ctx context.Context, bin, dir, bind string, servers []haproxyServer, noRetry bool, log io.Writer) (*haproxy, error) {
	socket := filepath.Join(dir, "haproxy.sock")
	cfg, err := renderHAProxyConfig(socket, bind, servers, noRetry)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	check := exec.CommandContext(ctx, bin, "-c", "-f", path)
	if out, err := check.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("haproxy -c -f %s: %w\n%s", path, err, out)
	}
	// -db: stay in the foreground, so the process is ours to stop.
	h := &haproxy{cmd: exec.Command(bin, "-db", "-f", path), socket: socket, bind: bind, exited: make(chan struct{})}
	h.cmd.Stdout, h.cmd.Stderr = log, log
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	go func() { h.err = h.cmd.Wait(); close(h.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := h.stats(); err == nil {
			return h, nil
		}
		select {
		case <-h.exited:
			return nil, errors.Join(errors.New("haproxy exited at start"), h.err)
		case <-ctx.Done():
			h.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.stop()
			return nil, errors.New("haproxy: stats socket not answering after 10s")
		}
	}
}

// stop ends HAProxy (SIGUSR1 is its soft stop; SIGTERM is immediate) and waits.
func (h *haproxy) stop() {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
		<-h.exited
	}
}

// serverStat is one row of "show stat": a server or the backend as a whole.
type serverStat struct {
	Name   string
	Status string // UP, DOWN, "UP 1/2", "DOWN 1/2", MAINT, no check
	// Retries (wretr), redispatches (wredis), connection errors (econ), response errors
	// (eresp) and 5xx answers sent to clients.
	Retries, Redispatches, ConnErrors, RespErrors, HTTP5xx int
}

// stats reads "show stat" for the backend "app" from the stats socket.
func (h *haproxy) stats() (map[string]serverStat, error) {
	conn, err := net.DialTimeout("unix", h.socket, time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, "show stat\n"); err != nil {
		return nil, err
	}
	r := csv.NewReader(bufio.NewReader(conn))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("haproxy show stat: %w", err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[strings.TrimPrefix(name, "# ")] = i
	}
	for _, need := range []string{"pxname", "svname", "status", "wretr", "wredis", "econ", "eresp", "hrsp_5xx"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("haproxy show stat: no column %s", need)
		}
	}
	out := map[string]serverStat{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("haproxy show stat: %w", err)
		}
		if len(rec) < len(header)-1 || rec[col["pxname"]] != "app" {
			continue
		}
		n := func(name string) int { v, _ := strconv.Atoi(rec[col[name]]); return v }
		s := serverStat{
			Name: rec[col["svname"]], Status: rec[col["status"]],
			Retries: n("wretr"), Redispatches: n("wredis"), ConnErrors: n("econ"), RespErrors: n("eresp"), HTTP5xx: n("hrsp_5xx"),
		}
		out[s.Name] = s
	}
	return out, nil
}

// waitStatus waits until HAProxy reports server with the status want (UP or DOWN).
func (h *haproxy) waitStatus(ctx context.Context, server, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		st, err := h.stats()
		if err == nil {
			last = st[server].Status
			if last == want { // "UP 1/2" is a server going down, "DOWN 1/2" one coming up
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("haproxy: server %s is %q after %s, want %s", server, last, timeout, want), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.exited:
			return errors.Join(errors.New("haproxy exited"), h.err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
