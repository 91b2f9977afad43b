package restarttest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Strategies a generated project may use.
const (
	Fork       = "fork"
	Supervisor = "supervisor"
	Systemd    = "systemd"
)

// ServerConfig says how to start a generated project's binary.
type ServerConfig struct {
	Strategy string
	// Binary is the path of the binary; restarts run whatever is at this path then.
	Binary string
	// ConfigFile is the project's conf/app.ini; it is copied into WorkDir (none if empty).
	ConfigFile string
	// WorkDir is the server's working folder (database, PID file).
	WorkDir string
	// EnvPrefix is the project's settings prefix, e.g. MYBLOG.
	EnvPrefix string
	// ShutdownTimeout and ReadyTimeout are passed as settings overrides.
	ShutdownTimeout, ReadyTimeout time.Duration
	// Env is added to the server's environment, e.g. other settings overrides.
	Env []string
	// Log receives the server's stdout and stderr.
	Log io.Writer
	// Ports is where the server's port is picked from; zero: any free port.
	Ports PortRange
	// Wrap, when set, is a command the binary is started through, which must exec it (so
	// that the pid stays the server's), e.g. prlimit --nofile=1024:1024 --.
	Wrap []string
	// TLS, when set, says the server serves HTTPS (Env names its CertFile and KeyFile): the
	// harness then speaks TLS with this client configuration (the server's CA in RootCAs),
	// BaseURL is https and RunRestarts' load and slow requests use it too.
	TLS *tls.Config
}

// Server is a running generated project, started the way its deploy files start it.
type Server struct {
	cfg     ServerConfig
	BaseURL string
	port    int
	pidFile string
	// systemd: the socket the harness holds, as systemd would, and the notify socket.
	socket *os.File
	Notify *NotifySocket

	// mu guards cur and groups: the memory sampler reads groups while a restart launches.
	mu sync.Mutex
	// cur is the process the harness started last.
	cur *launched
	// groups are the process groups of every launch, so Kill and GroupPIDs reach every
	// generation of every launch.
	groups []int
	// notifyMark is how many notifications had arrived when the last launch started.
	notifyMark int
}

// Start starts the server and waits until it answers /healthz and, for the fork strategy,
// its PID file names it.
func Start(ctx context.Context, cfg ServerConfig) (*Server, error) {
	s := &Server{cfg: cfg}
	if err := s.copyConfig(); err != nil {
		return nil, err
	}
	var err error
	if cfg.Strategy == Systemd {
		ln, err := cfg.Ports.listen()
		if err != nil {
			return nil, err
		}
		s.port = ln.Addr().(*net.TCPAddr).Port
		s.socket, err = ln.File()
		ln.Close() // the dup in s.socket keeps the socket listening
		if err != nil {
			return nil, err
		}
		if s.Notify, err = ListenNotify(filepath.Join(cfg.WorkDir, "notify.sock")); err != nil {
			return nil, err
		}
	} else if s.port, err = cfg.Ports.FreePort(); err != nil {
		return nil, err
	}
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	s.BaseURL = scheme + "://127.0.0.1:" + strconv.Itoa(s.port)
	s.pidFile = filepath.Join(cfg.WorkDir, "server.pid")
	if err := s.launch(); err != nil {
		return nil, err
	}
	if err := s.WaitHealthy(ctx, 30*time.Second); err != nil {
		s.Kill()
		return nil, err
	}
	if err := s.waitPIDFile(ctx, 30*time.Second); err != nil {
		s.Kill()
		return nil, err
	}
	return s, nil
}

// copyConfig copies the project's conf/app.ini into the working folder, if there is one.
func (s *Server) copyConfig() error {
	if s.cfg.ConfigFile == "" {
		return nil
	}
	ini, err := os.ReadFile(s.cfg.ConfigFile)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.cfg.WorkDir, "conf"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.cfg.WorkDir, "conf", "app.ini"), ini, 0o644)
}

// launch starts the binary once.
func (s *Server) launch() error {
	env := append(os.Environ(),
		s.cfg.EnvPrefix+"_SERVER_HTTPPORT="+strconv.Itoa(s.port),
		s.cfg.EnvPrefix+"_SERVER_SHUTDOWNTIMEOUT="+s.cfg.ShutdownTimeout.String(),
		s.cfg.EnvPrefix+"_SERVER_READYTIMEOUT="+s.cfg.ReadyTimeout.String(),
		s.cfg.EnvPrefix+"_APP_RUNMODE=release",
		s.cfg.EnvPrefix+"_APP_PIDFILE="+s.pidFile,
	)
	env = append(env, s.cfg.Env...)
	argv := append(slices.Clone(s.cfg.Wrap), s.cfg.Binary)
	var cmd *exec.Cmd
	if s.cfg.Strategy == Systemd {
		// As systemd does: the socket is fd 3, LISTEN_PID names the process that execs the
		// server. exec keeps the shell's pid, so $$ is the server's pid.
		cmd = exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$ exec "$0" "$@"`}, argv...)...)
		cmd.ExtraFiles = []*os.File{s.socket}
		env = append(env, "LISTEN_FDS=1", "LISTEN_FDNAMES=http", "NOTIFY_SOCKET="+s.Notify.Path)
	} else {
		cmd = exec.Command(argv[0], argv[1:]...)
	}
	cmd.Dir = s.cfg.WorkDir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = s.cfg.Log, s.cfg.Log
	// A process group of its own, so that Kill reaches every generation.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.Notify != nil {
		s.notifyMark = len(s.Notify.Messages())
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.cfg.Binary, err)
	}
	l := &launched{cmd: cmd, exited: make(chan struct{})}
	s.mu.Lock()
	s.cur = l
	s.groups = append(s.groups, cmd.Process.Pid)
	s.mu.Unlock()
	go func() {
		l.err = cmd.Wait()
		l.at = time.Now()
		close(l.exited)
	}()
	return nil
}

// launched is one process the harness started.
type launched struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error     // valid once exited is closed
	at     time.Time // when it exited, valid once exited is closed
}

// Relaunch starts the binary again on the same port (and, for systemd, the same held
// socket), as `systemctl restart` does after a stop, and waits as Start does.
func (s *Server) Relaunch(ctx context.Context) error {
	if err := s.launch(); err != nil {
		return err
	}
	if err := s.WaitHealthy(ctx, 30*time.Second); err != nil {
		return err
	}
	return s.waitPIDFile(ctx, 30*time.Second)
}

// waitPIDFile waits, for the fork strategy, until the PID file names the process the harness
// started last, alive. The fork strategy accepts (so /healthz answers) before it reports
// ready, and only then writes its PID file: until it has, MainPID and Signal have no pid.
// Other strategies have no PID file to wait for.
func (s *Server) waitPIDFile(ctx context.Context, timeout time.Duration) error {
	if s.cfg.Strategy != Fork {
		return nil
	}
	want := s.StartedPID()
	deadline := time.Now().Add(timeout)
	for {
		pid, err := ReadPIDFile(s.pidFile)
		if err == nil && pid == want && Alive(pid) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PID file %s does not name the started process %d within %s: read %d (%w)",
				s.pidFile, want, timeout, pid, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// last is the process the harness started last.
func (s *Server) last() *launched {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// StartedPID is the pid of the process the harness started last (the supervisor's master).
func (s *Server) StartedPID() int { return s.last().cmd.Process.Pid }

// Exited is closed when the process the harness started last has exited.
func (s *Server) Exited() <-chan struct{} { return s.last().exited }

// ExitErr is the started process's wait error, valid after Exited is closed.
func (s *Server) ExitErr() error { return s.last().err }

// ExitedAt is when the started process exited (reaped), valid after Exited is closed.
func (s *Server) ExitedAt() time.Time { return s.last().at }

// MainPID is the pid a service manager would signal: the PID file's (fork), the master's
// (supervisor), the last MAINPID= sent (systemd).
func (s *Server) MainPID() (int, error) {
	switch s.cfg.Strategy {
	case Fork:
		return ReadPIDFile(s.pidFile)
	case Systemd:
		// A MAINPID= sent since the last launch; systemd forgets it when it starts anew.
		if pid := s.Notify.MainPIDSince(s.notifyMark); pid != 0 {
			return pid, nil
		}
	}
	return s.StartedPID(), nil
}

// Config is the configuration the server was started with.
func (s *Server) Config() ServerConfig { return s.cfg }

// PIDFile is the path of the PID file the server is told to write.
func (s *Server) PIDFile() string { return s.pidFile }

// Signal sends sig to the main pid.
func (s *Server) Signal(sig syscall.Signal) error {
	pid, err := s.MainPID()
	if err != nil {
		return err
	}
	return syscall.Kill(pid, sig)
}

// Health asks /healthz which process serves.
func (s *Server) Health(ctx context.Context) (Health, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.BaseURL+"/healthz", nil)
	if err != nil {
		return Health{}, err
	}
	// A fresh connection each time, so the answer comes from whoever accepts now.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: s.cfg.TLS.Clone()}}
	resp, err := client.Do(req)
	if err != nil {
		return Health{}, err
	}
	defer resp.Body.Close()
	var h Health
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("GET /healthz: status %d", resp.StatusCode)
	}
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// WaitHealthy polls /healthz until it answers.
func (s *Server) WaitHealthy(ctx context.Context, timeout time.Duration) error {
	_, err := s.WaitFor(ctx, timeout, func(Health) bool { return true })
	return err
}

// WaitFor polls /healthz until ok accepts the answer.
func (s *Server) WaitFor(ctx context.Context, timeout time.Duration, ok func(Health) bool) (Health, error) {
	return s.poll(ctx, timeout, 20*time.Millisecond, ok)
}

// poll asks /healthz every interval until ok accepts the answer.
func (s *Server) poll(ctx context.Context, timeout, interval time.Duration, ok func(Health) bool) (Health, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		h, err := s.Health(ctx)
		if err == nil && ok(h) {
			return h, nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("last answer %+v", h)
		}
		select {
		case <-ctx.Done():
			return Health{}, ctx.Err()
		case <-time.After(interval):
		}
	}
	return Health{}, fmt.Errorf("server at %s not as expected within %s: %w", s.BaseURL, timeout, last)
}

// Kill ends every process of the server's process groups and releases the held socket.
func (s *Server) Kill() {
	s.mu.Lock()
	groups, cur := slices.Clone(s.groups), s.cur
	s.mu.Unlock()
	for _, pgid := range groups {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	if cur != nil {
		select {
		case <-cur.exited:
		case <-time.After(5 * time.Second):
		}
	}
	if s.socket != nil {
		s.socket.Close()
	}
	if s.Notify != nil {
		s.Notify.Close()
	}
}

// GroupPIDs lists the live processes of the server's process groups (zombies excluded).
func (s *Server) GroupPIDs() []int {
	s.mu.Lock()
	groups := slices.Clone(s.groups)
	s.mu.Unlock()
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		pgid, err := syscall.Getpgid(pid)
		if err == nil && slices.Contains(groups, pgid) && Alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// Alive reports whether pid is a running process (not gone, not a zombie).
func Alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// WaitGone waits until pid is no longer alive.
func WaitGone(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for Alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still alive after %s", pid, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// ReadPIDFile reads a PID file.
func ReadPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("PID file %s: %w", path, err)
	}
	return pid, nil
}
