package restart

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// bodyHandler answers 200 at /run once release is closed, reading no body (a running
// request); elsewhere it reads the whole body and answers 200, or 408 when the read ran out
// of time (as a generated project's BodyDeadline does).
func bodyHandler(running chan<- struct{}, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/run" {
			running <- struct{}{}
			<-release
			_, _ = io.WriteString(w, "ran")
			return
		}
		if _, err := io.ReadAll(r.Body); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				w.WriteHeader(http.StatusRequestTimeout)
			}
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
}

// slowClient holds a connection the way an attacker does: headers never finished
// (slowloris), or a body sent one byte at a time. It reports the status line it got, if any.
func slowClient(t *testing.T, addr string, body bool, status chan<- string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if body {
		_, err = io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	} else {
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			piece := "X-Slow: 1\r\n"
			if body {
				piece = "a"
			}
			if _, err := io.WriteString(c, piece); err != nil {
				return
			}
		}
	}()
	go func() {
		line, _ := bufio.NewReader(c).ReadString('\n')
		status <- strings.TrimSpace(line)
	}()
	return c
}

// TestAtTheCapSlowClientsAreShedForAProbe: with MaxConns = 20, a running request, then 40
// slow clients (19 that trickle a body, then 21 that never finish their headers). Probes on new
// connections are still served (before, they waited in the accept queue behind the slow
// clients, whose timeouts here are a minute), slow clients are shed (the slowloris ones
// first, slow bodies when no other may go), and the running request is never evicted: it is answered once
// it ends.
func TestAtTheCapSlowClientsAreShedForAProbe(t *testing.T) {
	ln := listen(t)
	o := testOptions()
	o.MaxConns = 20
	o.ReadTimeout, o.ReadHeaderTimeout = time.Minute, time.Minute
	running, release := make(chan struct{}), make(chan struct{})
	s := startServer(bodyHandler(running, release), []net.Listener{ln}, o)
	drainAtEnd(t, s)
	var once sync.Once
	end := func() { once.Do(func() { close(release) }) }
	t.Cleanup(end) // before the drain, also when the test fails
	addr := ln.Addr().String()

	type result struct {
		body string
		err  error
	}
	ran := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/run")
		if err != nil {
			ran <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ran <- result{string(b), err}
	}()
	<-running

	// The slow bodies fill the cap beside the running request, and run for longer than
	// slowBodyWait; then the slowloris clients come.
	status := make(chan string, 40)
	for range 19 {
		slowClient(t, addr, true, status)
	}
	time.Sleep(3 * slowBodyWait)
	for range 21 {
		slowClient(t, addr, false, status)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 10 {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("probe %d at the cap: %v", i, err)
		}
		resp.Body.Close()
	}
	// 41 connections for 20 places: at least 21 were shed (a probe that ends leaves room
	// for the next).
	got := map[string]int{}
	for range 21 {
		select {
		case line := <-status:
			got[line]++
		case <-time.After(10 * time.Second):
			t.Fatalf("only %v of the slow clients were shed", got)
		}
	}
	t.Logf("slow clients shed: %v", got)

	end()
	res := <-ran
	if res.err != nil || res.body != "ran" {
		t.Errorf("the running request: %q, %v; want it answered", res.body, res.err)
	}
}

// TestTheVictimIsTheOldestIdleThenTheSlowestBody checks the order of eviction on
// connections in every state: waiting for headers or idle first, oldest first; then slow
// bodies, the slowest first; never a running handler, a connection just accepted or a
// request that just began, a stream, an HTTP/2 connection or a hijacked one.
func TestTheVictimIsTheOldestIdleThenTheSlowestBody(t *testing.T) {
	now := time.Now()
	conn := func(state http.ConnState, age time.Duration) *trackedConn {
		return &trackedConn{state: state, since: now.Add(-age)}
	}
	slowBody := func(started time.Duration, read int64) *trackedConn {
		c := conn(http.StateActive, started)
		c.requestStart.Store(now.Add(-started).UnixNano())
		c.bodyWait.Store(true)
		c.bodyRead.Store(read)
		return c
	}
	running := conn(http.StateActive, time.Hour)
	running.requestStart.Store(now.Add(-time.Hour).UnixNano())
	justStarted := slowBody(slowBodyWait/10, 0)
	stream := slowBody(3*time.Hour, 0)
	stream.streams.Add(1)
	h2 := slowBody(4*time.Hour, 0)
	h2.h2.Store(true)
	hijacked := conn(http.StateHijacked, 5*time.Hour)
	alreadyEvicted := conn(http.StateIdle, 6*time.Hour)
	alreadyEvicted.evicted.Store(true)
	justAccepted := conn(http.StateNew, slowBodyWait/10)
	never := []*trackedConn{running, justStarted, stream, h2, hijacked, alreadyEvicted, justAccepted}

	newIdle, oldIdle := conn(http.StateIdle, time.Second), conn(http.StateIdle, time.Minute)
	oldNew := conn(http.StateNew, 2*time.Minute)
	// 10 bytes a second, then 100: the slowest goes first, whatever its age.
	slowest, slower := slowBody(time.Minute, 600), slowBody(10*time.Minute, 60000)
	l := newShedListener(nil, 1)
	for _, c := range append([]*trackedConn{newIdle, oldIdle, oldNew, slowest, slower}, never...) {
		l.conns[c] = struct{}{}
	}
	for i, want := range []struct {
		c    *trackedConn
		slow bool
	}{{oldNew, false}, {oldIdle, false}, {newIdle, false}, {slowest, true}, {slower, true}} {
		got, slow := l.victim()
		if got != want.c || slow != want.slow {
			t.Fatalf("eviction %d: %p (slow body %t), want %p (%t)", i+1, got, slow, want.c, want.slow)
		}
		delete(l.conns, got)
	}
	if got, _ := l.victim(); got != nil {
		t.Errorf("with only connections never evicted left, the victim is %p (running %p, just started %p, stream %p, HTTP/2 %p, hijacked %p, evicted %p, just accepted %p)",
			got, running, justStarted, stream, h2, hijacked, alreadyEvicted, justAccepted)
	}

	// Slow bodies being evicted are bounded: past maxEvicting, only idle ones are shed.
	l.conns = map[*trackedConn]struct{}{slower: {}}
	l.evicting = maxEvicting
	if got, _ := l.victim(); got != nil {
		t.Errorf("with %d slow bodies being evicted, another one was chosen", maxEvicting)
	}
}

// TestAtTheCapWithNothingToShedTheListenerWaits: running requests fill the cap; a new
// connection is accepted only once one of them ends, and none of them is cut.
func TestAtTheCapWithNothingToShedTheListenerWaits(t *testing.T) {
	ln := listen(t)
	o := testOptions()
	o.MaxConns = 3
	running, release := make(chan struct{}), make(chan struct{})
	s := startServer(bodyHandler(running, release), []net.Listener{ln}, o)
	drainAtEnd(t, s)
	url := "http://" + ln.Addr().String()

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(url + "/run")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "ran" {
					err = fmt.Errorf("answered %q", b)
				}
			}
			errs <- err
		})
		<-running
	}
	probe := &http.Client{Timeout: 3 * slowBodyWait, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := probe.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("a fourth connection was served while three requests ran, with MaxConns = 3")
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a running request at the cap: %v", err)
		}
	}
	probe.Timeout = 5 * time.Second
	resp, err := probe.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("once the requests ended: %v", err)
	}
	resp.Body.Close()
}
