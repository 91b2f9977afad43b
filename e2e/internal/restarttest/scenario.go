package restarttest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"syscall"
	"time"
)

// Mode is how a restart is made.
type Mode string

const (
	// Reload sends SIGHUP to the main pid: the strategy's own hand-over.
	Reload Mode = "reload"
	// Restart stops the server (Plan.StopSignal to the process the harness started), waits
	// for it to exit, then starts the new binary, as `systemctl restart` does. A systemd
	// server gets the same socket, which the harness held meanwhile; the others listen anew,
	// which is the naive restart the strategies are compared with.
	Restart Mode = "restart"
)

// Plan is a run of restarts under load.
type Plan struct {
	Mode Mode
	// StopSignal stops the server in Restart mode: SIGTERM (default) or SIGKILL.
	StopSignal syscall.Signal
	// Binaries[i] is deployed (renamed over the server's binary) before restart i+1; it
	// answers /healthz with Versions[i], which must differ from the version before it.
	Binaries, Versions []string
	// Steady is the time without restart before the first restart, between two restarts
	// (counted from the exit of the old generation) and after the last one.
	Steady time.Duration
	// Load is the traffic during the whole run; its BaseURL is filled in.
	Load LoadConfig
	// Slow requests are started before every restart and kept in flight across it; each
	// must complete on the old generation. Slow.Addr is filled in.
	SlowCount int
	Slow      SlowConfig
}

// RestartRecord is what one restart did, and when.
type RestartRecord struct {
	Version        string
	OldPID, NewPID int
	// Signaled: the SIGHUP (Reload) or the stop signal (Restart) was sent. Serving: the
	// new generation answered /healthz for the first time. OldGone: the old generation
	// had exited.
	Signaled, Serving, OldGone time.Time
}

// Window is the restart window: from the signal until both the new generation serves and
// the old one has exited.
func (r RestartRecord) Window() Window {
	end := r.Serving
	if r.OldGone.After(end) {
		end = r.OldGone
	}
	return Window{From: r.Signaled, To: end}
}

// ToServing is the time from the signal to the new generation serving.
func (r RestartRecord) ToServing() time.Duration { return r.Serving.Sub(r.Signaled) }

// Run is the record of a run of restarts under load.
type Run struct {
	Strategy   string
	Plan       Plan
	Start, End time.Time
	Results    []Result
	Restarts   []RestartRecord
	Slow       []SlowResult
	Memory     Memory
	// Problems are the broken rules: a new version not served, an identity rule broken, an
	// old generation that outlived its ShutdownTimeout, a slow request that failed. Failed
	// load requests are counted in Results, not here.
	Problems []string
}

func (run *Run) problem(format string, args ...any) {
	run.Problems = append(run.Problems, fmt.Sprintf(format, args...))
}

// Windows are the restart windows of the run.
func (run *Run) Windows() []Window {
	ws := make([]Window, len(run.Restarts))
	for i, r := range run.Restarts {
		ws[i] = r.Window()
	}
	return ws
}

// RunRestarts drives plan.Load against srv, whose binary is at bin, restarts it once per
// binary in plan.Binaries and checks every restart: the new version serves, the old
// generation exits within its ShutdownTimeout, the slow requests complete on the old
// generation and the strategy's identity rule holds. The error is for a harness failure
// that ends the run early; rules broken are in Run.Problems.
func RunRestarts(ctx context.Context, srv *Server, bin string, plan Plan) (*Run, error) {
	if plan.StopSignal == 0 {
		plan.StopSignal = syscall.SIGTERM
	}
	if len(plan.Versions) != len(plan.Binaries) {
		return nil, errors.New("restart run: one version per binary")
	}
	run := &Run{Strategy: srv.cfg.Strategy, Plan: plan}
	prev, err := srv.Health(ctx)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(srv.BaseURL)
	if err != nil {
		return nil, err
	}
	plan.Slow.Addr = u.Host
	plan.Load.BaseURL = srv.BaseURL
	if srv.cfg.TLS != nil {
		plan.Load.TLS, plan.Slow.TLS = srv.cfg.TLS, srv.cfg.TLS
	}
	master := srv.StartedPID()

	mem := SampleMemory(srv)
	load := StartLoad(ctx, plan.Load)
	run.Start = time.Now()
	finish := func() {
		run.Results = load.Stop()
		run.End = time.Now()
		run.Memory = mem.Stop()
	}
	sleepCtx(ctx, plan.Steady)
	for i, binary := range plan.Binaries {
		if err := Install(binary, bin); err != nil {
			finish()
			return run, err
		}
		rec, ok := run.restart(ctx, srv, plan, prev, plan.Versions[i])
		run.Restarts = append(run.Restarts, rec)
		if !ok {
			break // the server is not in a state another restart could be judged from
		}
		if err := srv.checkIdentity(plan.Mode, master, rec.NewPID, i+2); err != nil {
			run.problem("restart %d: %v", i+1, err)
		}
		prev = Health{PID: rec.NewPID, Version: rec.Version}
		sleepCtx(ctx, plan.Steady)
	}
	finish()
	return run, ctx.Err()
}

// restart makes one restart onto the binary now deployed, which reports version. ok is
// false when the new generation never served.
func (run *Run) restart(ctx context.Context, srv *Server, plan Plan, prev Health, version string) (RestartRecord, bool) {
	gen := len(run.Restarts) + 1
	rec := RestartRecord{Version: version, OldPID: prev.PID}
	var slows []*SlowRequest
	for range plan.SlowCount {
		r, err := StartSlow(ctx, plan.Slow)
		if err != nil {
			run.problem("restart %d: start a slow request: %v", gen, err)
			continue
		}
		slows = append(slows, r)
	}

	rec.Signaled = time.Now()
	switch plan.Mode {
	case Reload:
		if err := srv.Signal(syscall.SIGHUP); err != nil {
			run.problem("restart %d: SIGHUP: %v", gen, err)
			return rec, false
		}
	case Restart:
		// The process the harness started is the one a service manager stops.
		if err := syscall.Kill(srv.StartedPID(), plan.StopSignal); err != nil {
			run.problem("restart %d: %s: %v", gen, plan.StopSignal, err)
			return rec, false
		}
		select {
		case <-srv.Exited():
			rec.OldGone = time.Now()
		case <-time.After(srv.cfg.ShutdownTimeout + 5*time.Second):
			run.problem("restart %d: pid %d still running %s after %s", gen, srv.StartedPID(),
				srv.cfg.ShutdownTimeout+5*time.Second, plan.StopSignal)
			return rec, false
		}
		if err := srv.launch(); err != nil {
			run.problem("restart %d: %v", gen, err)
			return rec, false
		}
	}

	now, err := srv.poll(ctx, 30*time.Second, 5*time.Millisecond, func(h Health) bool {
		return h.Version == version && h.PID != prev.PID
	})
	rec.Serving = time.Now()
	if err != nil {
		run.problem("restart %d: new version %s not served: %v", gen, version, err)
		return rec, false
	}
	rec.NewPID = now.PID

	if plan.Mode == Reload {
		limit := srv.cfg.ShutdownTimeout
		if err := WaitGone(prev.PID, limit+5*time.Second); err != nil {
			run.problem("restart %d: old generation: %v", gen, err)
		}
		rec.OldGone = time.Now()
		if drained := rec.OldGone.Sub(rec.Serving); drained > limit {
			run.problem("restart %d: old generation %d exited %s after the new one served, past its ShutdownTimeout %s",
				gen, prev.PID, drained.Round(time.Millisecond), limit)
		}
	}

	for _, r := range slows {
		res := r.Wait()
		run.Slow = append(run.Slow, res)
		switch {
		case res.Err != "":
			run.problem("restart %d: slow request on pid %d failed: %s", gen, res.PID, res.Err)
		case res.PID != prev.PID:
			run.problem("restart %d: slow request served by pid %d, not by the old generation %d", gen, res.PID, prev.PID)
		case plan.Mode == Reload && res.Finished.Before(rec.Serving):
			run.problem("restart %d: slow request finished before the new generation served: trickle it for longer", gen)
		}
	}
	return rec, true
}

// checkIdentity checks who a service manager would see after restart gen-1 (gen counts
// generations: the first start is 1): fork - the PID file names the serving process;
// supervisor - the master's pid has not changed (Reload) and a worker serves; systemd - the
// same, READY=1 after every start and every reload, and never a MAINPID=.
func (s *Server) checkIdentity(mode Mode, master, serving, gen int) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := s.identity(mode, master, serving, gen)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) identity(mode Mode, master, serving, gen int) error {
	switch s.cfg.Strategy {
	case Fork:
		if pid, err := ReadPIDFile(s.pidFile); err != nil || pid != serving {
			return fmt.Errorf("PID file names %d (%w), want the serving process %d", pid, err, serving)
		}
	case Supervisor:
		if mode == Reload && (s.StartedPID() != master || !Alive(master)) {
			return fmt.Errorf("master %d is gone; its pid must stay stable", master)
		}
		if serving == s.StartedPID() {
			return fmt.Errorf("the master %d serves requests itself; a worker should", serving)
		}
	case Systemd:
		// The master sends READY=1 when its first worker serves and after every reload;
		// a stopped master sent STOPPING=1.
		wantReady := 1
		if mode == Reload {
			wantReady = gen
		} else if stopping := s.Notify.Count("STOPPING", "1"); stopping < gen-1 {
			return fmt.Errorf("STOPPING=1 count %d after %d stops", stopping, gen-1)
		}
		if n := s.Notify.CountSince(s.notifyMark, "READY", "1"); n < wantReady {
			return fmt.Errorf("READY=1 count %d since the start, want %d", n, wantReady)
		}
		// The started process is systemd's main process for its whole life (a master whose
		// workers serve): a MAINPID= would hand the unit to a process systemd did not start.
		if pid := s.Notify.MainPIDSince(0); pid != 0 {
			return fmt.Errorf("MAINPID=%d sent; the main process must stay the one systemd started", pid)
		}
		if mode == Reload && (s.StartedPID() != master || !Alive(master)) {
			return fmt.Errorf("main process %d is gone; its pid must stay stable", master)
		}
		if serving == s.StartedPID() {
			return fmt.Errorf("the main process %d serves requests itself; a worker should", serving)
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// KillRecord is what one SIGKILL of a supervisor's worker did.
type KillRecord struct {
	Killed         time.Time
	OldPID, NewPID int
	// Recovered is the time from the kill until a new worker answered /healthz.
	Recovered time.Duration
}

// KillWorker SIGKILLs the worker that answers /healthz now and waits until another
// process answers.
func KillWorker(ctx context.Context, srv *Server) (KillRecord, error) {
	h, err := srv.Health(ctx)
	if err != nil {
		return KillRecord{}, err
	}
	rec := KillRecord{OldPID: h.PID, Killed: time.Now()}
	if err := syscall.Kill(h.PID, syscall.SIGKILL); err != nil {
		return rec, err
	}
	next, err := srv.poll(ctx, 30*time.Second, 5*time.Millisecond, func(n Health) bool { return n.PID != h.PID })
	rec.Recovered = time.Since(rec.Killed)
	if err != nil {
		return rec, fmt.Errorf("no new worker after the kill: %w", err)
	}
	rec.NewPID = next.PID
	return rec, nil
}
