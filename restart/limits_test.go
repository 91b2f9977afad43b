package restart

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"
)

// okHandler answers 200 "ok".
func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
}

func drainAtEnd(t *testing.T, s *server) {
	t.Cleanup(func() {
		if err := s.Drain(context.Background(), 5*time.Second); err != nil {
			t.Error(err)
		}
	})
}

func TestAnIdleNewConnectionIsClosedAfterReadHeaderTimeout(t *testing.T) {
	ln := listen(t)
	o := testOptions()
	o.ReadHeaderTimeout = 200 * time.Millisecond
	s := startServer(okHandler(), []net.Listener{ln}, o)
	drainAtEnd(t, s)

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Send nothing: the server must hang up long before ReadTimeout (5s).
	if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = conn.Read(make([]byte, 1))
	if err == nil || os.IsTimeout(err) {
		t.Fatalf("read on an idle connection: %v after %s; want the server to close it", err, time.Since(start))
	}
}

// TestAtTheCapTheOldestIdleConnectionMakesRoom: with MaxConns = 2 and two connections that
// send nothing, a third is served at once (it used to wait in the accept queue until one of
// them went), and the older of the two is closed to make room.
func TestAtTheCapTheOldestIdleConnectionMakesRoom(t *testing.T) {
	ln := listen(t)
	o := testOptions()
	o.MaxConns = 2
	s := startServer(okHandler(), []net.Listener{ln}, o)
	drainAtEnd(t, s)

	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
		time.Sleep(2 * slowBodyWait) // accepted in this order, each old enough to be shed
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("a third connection with two idle ones at the cap: %v", err)
	}
	resp.Body.Close()
	for i, want := range []bool{true, false} {
		if err := idle[i].SetReadDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		_, err := idle[i].Read(make([]byte, 1))
		if closed := err != nil && !os.IsTimeout(err); closed != want {
			t.Errorf("idle connection %d: read %v; want it closed: %t", i+1, err, want)
		}
	}
}

func TestOnServeHearsTheGenerationAndItsHandOver(t *testing.T) {
	t.Setenv(generationEnv, "3")
	t.Setenv(restartRequestedEnv, strconv.FormatInt(time.Now().Add(-1500*time.Millisecond).UnixNano(), 10))
	o := testOptions()
	gen, handover := -1, time.Duration(0)
	o.OnServe = func(g int, d time.Duration) { gen, handover = g, d }
	s := startServer(okHandler(), []net.Listener{listen(t)}, o)
	drainAtEnd(t, s)
	if gen != 3 || handover < 1500*time.Millisecond || handover > time.Minute {
		t.Errorf("OnServe(%d, %s), want generation 3 after a hand-over of 1.5s or a little more", gen, handover)
	}
}

func TestTheFirstGenerationIsZero(t *testing.T) {
	if g, d := currentGeneration(func(string) string { return "" }); g != 0 || d != 0 {
		t.Errorf("without the variables: generation %d, hand-over %s; want 0, 0", g, d)
	}
}

func TestNextGenerationEnvSetsEachVariableOnce(t *testing.T) {
	env := nextGenerationEnv([]string{"A=1", generationEnv + "=4", restartRequestedEnv + "=9"}, 5, time.Unix(0, 42))
	want := []string{"A=1", generationEnv + "=5", restartRequestedEnv + "=42"}
	if len(env) != len(want) {
		t.Fatalf("env = %q, want %q", env, want)
	}
	for i := range want {
		if env[i] != want[i] {
			t.Errorf("env = %q, want %q", env, want)
		}
	}
}

func TestMarkNextGenerationCanBeUndone(t *testing.T) {
	t.Setenv(generationEnv, "2")
	restore, err := markNextGeneration(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := os.Getenv(generationEnv); got != "3" {
		t.Errorf("after markNextGeneration: %s = %q, want 3", generationEnv, got)
	}
	// The upgrade failed: this process is still generation 2, and so is its next attempt's
	// base.
	restore()
	if got := os.Getenv(generationEnv); got != "2" {
		t.Errorf("after restore: %s = %q, want 2", generationEnv, got)
	}
	if _, ok := os.LookupEnv(restartRequestedEnv); ok {
		t.Errorf("after restore, %s is still set", restartRequestedEnv)
	}
}
