package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// The flood of TestHealthzAnswersUnderAConnectionFlood: issue 18's figures.
const (
	floodNoFile    = 1024 // the server's hard and soft open-file limit
	floodAttackers = 1100 // more connections than that limit allows
	floodProbes    = 30   // /healthz probes per phase, floodProbeGap apart
	floodProbeGap  = 500 * time.Millisecond
	floodAnswerBy  = time.Second // a probe counts when answered 200 within this
	floodMinShare  = 0.95        // of the probes
)

// TestHealthzAnswersUnderAConnectionFlood: a generated project (SQLite, fork strategy,
// MaxConns automatic) runs under a hard `ulimit -n 1024` (prlimit --nofile=1024:1024) while
// 1,100 connections flood it, reconnecting as soon as they are cut: first slow bodies (half
// trickle one byte a second, half send just above [server] BodyMinRate, which the minimum
// rate alone never cuts before ReadTimeout), then a slowloris that never finishes its
// headers. In each phase at least 95% of /healthz probes, each on a new connection, must be
// answered 200 within 1 s, and the server never runs out of descriptors. It needs prlimit
// (util-linux) and 2,300 descriptors for the attacking side.
func TestHealthzAnswersUnderAConnectionFlood(t *testing.T) {
	skipShort(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prlimit (util-linux) is needed: %v", err)
		}
		t.Skipf("prlimit (util-linux) is not installed: %v", err)
	}
	// The Go runtime raised this process's soft limit to its hard one at start.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if need := uint64(2*floodAttackers + 200); lim.Cur < need {
		t.Fatalf("the attacking side needs %d open files, the limit is %d; raise it (ulimit -n)", need, lim.Cur)
	}
	// The binary's build (shared with the package's other tests) is not the flood's time.
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancelBuild()
	srv := startProject(t, buildCtx, restarttest.Fork, func(cfg *restarttest.ServerConfig) {
		cfg.Wrap = []string{prlimit, fmt.Sprintf("--nofile=%d:%d", floodNoFile, floodNoFile), "--"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", srv.StartedPID()))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Max open files            %d                 %d", floodNoFile, floodNoFile); !strings.Contains(string(limits), want) {
		t.Fatalf("the server does not run under ulimit -n %d:\n%s", floodNoFile, limits)
	}
	addr := strings.TrimPrefix(srv.BaseURL, "http://")

	for _, phase := range []struct {
		name   string
		attack func(ctx context.Context, addr string, i int, connected *atomic.Int64)
	}{
		{"slow bodies", slowBodyAttacker},
		{"slowloris", slowlorisAttacker},
	} {
		t.Run(phase.name, func(t *testing.T) {
			actx, stop := context.WithCancel(ctx)
			var wg sync.WaitGroup
			var connected atomic.Int64
			for i := range floodAttackers {
				wg.Go(func() { phase.attack(actx, addr, i, &connected) })
			}
			defer func() {
				stop()
				wg.Wait()
			}()
			// Every attacker connected (before the fix they wait in the accept queue).
			ramp := time.Now()
			for connected.Load() < floodAttackers && time.Since(ramp) < 10*time.Second {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(time.Second)
			t.Logf("%d attacker connections made in %s", connected.Load(), time.Since(ramp).Round(time.Millisecond))

			// One probe every floodProbeGap, each on its own, so that a slow one does not
			// delay the next: the phase takes floodProbes x floodProbeGap and a probe's bound.
			lat := make([]time.Duration, floodProbes)
			errs := make([]error, floodProbes)
			var probes sync.WaitGroup
			tick := time.NewTicker(floodProbeGap)
			for i := range floodProbes {
				probes.Go(func() { lat[i], errs[i] = probeHealthz(ctx, srv.BaseURL) })
				<-tick.C
			}
			tick.Stop()
			probes.Wait()
			ok := 0
			for i, d := range lat {
				if errs[i] == nil && d <= floodAnswerBy {
					ok++
				} else if errs[i] != nil {
					t.Logf("probe %d: %v after %s", i+1, errs[i], d.Round(time.Millisecond))
				}
			}
			slices.Sort(lat)
			t.Logf("%s: %d of %d probes answered 200 within %s; latency p50 %s, p95 %s, max %s; %d attacker connections made",
				phase.name, ok, floodProbes, floodAnswerBy, lat[len(lat)/2].Round(time.Millisecond),
				lat[len(lat)*95/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), connected.Load())
			if float64(ok) < floodMinShare*floodProbes {
				t.Errorf("%s: %d of %d /healthz probes answered 200 within %s; want at least %.0f%%", phase.name, ok, floodProbes, floodAnswerBy, floodMinShare*100)
			}
		})
	}
	if log := serverLog(t, srv); strings.Contains(log, "too many open files") {
		t.Errorf("the server ran out of descriptors under the flood:\n%s", log)
	}
	if _, err := probeHealthz(ctx, srv.BaseURL); err != nil {
		t.Errorf("after the flood: %v", err)
	}
}

// probeHealthz asks GET /healthz on a new connection and returns how long the answer took;
// an error unless it is 200. It waits at most 2 s.
func probeHealthz(ctx context.Context, baseURL string) (time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/healthz", nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return time.Since(start), err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Since(start), fmt.Errorf("/healthz answered %s", resp.Status)
	}
	return time.Since(start), nil
}

// attackLoop dials addr until ctx ends, running hold on each connection and dialling again
// as soon as the server cuts it.
func attackLoop(ctx context.Context, addr string, connected *atomic.Int64, hold func(net.Conn) error) {
	d := net.Dialer{Timeout: 3 * time.Second}
	for first := true; ctx.Err() == nil; {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		if first {
			connected.Add(1)
			first = false
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		_ = hold(c) // the server cut it (408, a timeout, an eviction) or the phase ended
		stop()
		c.Close()
	}
}

// slowBodyAttacker sends a POST's headers, then its body slowly: attacker i odd, one byte a
// second; even, 1,200 bytes a second in pieces of 300, just above BodyMinRate (1,024).
func slowBodyAttacker(ctx context.Context, addr string, i int, connected *atomic.Int64) {
	piece, gap := 1, time.Second
	if i%2 == 0 {
		piece, gap = 300, 250*time.Millisecond
	}
	attackLoop(ctx, addr, connected, func(c net.Conn) error {
		if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n\r\n{\"title\":\"", restarttest.PostPath, addr); err != nil {
			return err
		}
		return trickle(ctx, c, strings.Repeat("a", piece), gap)
	})
}

// slowlorisAttacker starts a request and sends one more header line a second, never
// finishing the headers.
func slowlorisAttacker(ctx context.Context, addr string, _ int, connected *atomic.Int64) {
	attackLoop(ctx, addr, connected, func(c net.Conn) error {
		if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n", addr); err != nil {
			return err
		}
		return trickle(ctx, c, "X-Slow: 1\r\n", time.Second)
	})
}

// trickle writes piece every gap until a write fails, the server answers or closes, or ctx
// ends.
func trickle(ctx context.Context, c net.Conn, piece string, gap time.Duration) error {
	answered := make(chan struct{})
	go func() {
		// Anything the server sends (a 408, a close) ends the connection's attack.
		_, _ = bufio.NewReader(c).ReadByte()
		close(answered)
	}()
	t := time.NewTicker(gap)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-answered:
			return io.EOF
		case <-t.C:
		}
		if _, err := io.WriteString(c, piece); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
