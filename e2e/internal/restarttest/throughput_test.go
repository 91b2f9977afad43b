package restarttest

import (
	"context"
	"testing"
	"time"
)

// TestBareGinBaselineBuildsAndServes keeps the benchmark's baseline buildable offline from
// the module cache: its go.mod pins the gin of the golden projects.
func TestBareGinBaselineBuildsAndServes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bare gin server")
	}
	// 6 minutes: on a cold build cache the build compiles gin and its dependencies; a cold
	// CI run at load 20-30 ran out of 2 (2026-12-06).
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	fx := NewFixtures("", t.TempDir())
	bin, err := fx.BareGin(ctx, BareGinDir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartBareGin(ctx, bin, t.TempDir(), PortRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Kill()
	h, err := srv.Health(ctx)
	if err != nil || h.Status != "ok" || h.Version != "bare" || h.PID != srv.StartedPID() {
		t.Fatalf("GET /healthz = %+v, %v", h, err)
	}
	if r := Throughput(ctx, srv, 4, 200*time.Millisecond); r.Failed != 0 || r.PerSecond == 0 {
		t.Errorf("throughput: %+v", r)
	}
}
