package restarttest

import (
	"context"
	"path/filepath"
	"runtime"
	"time"
)

// BareGinDir is the source of the throughput baseline, relative to this package.
const BareGinDir = "testdata/baregin"

// BareGin builds the bare gin server whose source is at dir (BareGinDir inside the gingen
// checkout) and returns its binary.
func (f *Fixtures) BareGin(ctx context.Context, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return f.Binary(ctx, abs, "bare")
}

// StartBareGin starts the bare gin server binary in workDir on a free port of ports.
func StartBareGin(ctx context.Context, binary, workDir string, ports PortRange) (*Server, error) {
	return Start(ctx, ServerConfig{Binary: binary, WorkDir: workDir, EnvPrefix: "BARE", Ports: ports})
}

// ThroughputResult is one throughput measurement.
type ThroughputResult struct {
	Summary
	// PerSecond is successful requests per second.
	PerSecond float64
	// CPUPerRequest is the server's CPU time (user and system, all its processes) per
	// successful request: what it costs regardless of how much CPU the load generator,
	// sharing the machine, leaves it.
	CPUPerRequest time.Duration
}

// Throughput drives clients kept-alive connections sending back-to-back GET /healthz at srv
// for d.
func Throughput(ctx context.Context, srv *Server, clients int, d time.Duration) ThroughputResult {
	runtime.GC() // start each measurement with the load generator's heap alike
	cpu := srv.CPUTime()
	load := StartLoad(ctx, LoadConfig{BaseURL: srv.BaseURL, KeepAlive: clients})
	start := time.Now()
	sleepCtx(ctx, d)
	results := load.Stop()
	elapsed := time.Since(start)
	cpu = srv.CPUTime() - cpu
	r := ThroughputResult{Summary: Summarize(results)}
	if ok := r.Sent - r.Failed; ok > 0 {
		r.PerSecond = float64(ok) / elapsed.Seconds()
		r.CPUPerRequest = cpu / time.Duration(ok)
	}
	return r
}
