package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// The load of TestEventStreamsSurviveRestarts.
const (
	eventSubscribers = 100
	eventRestarts    = 10
	eventWriteEvery  = 20 * time.Millisecond
	eventsShutdown   = 10 * time.Second // ShutdownTimeout: no restart may take it
)

// sseSubscriber follows GET /api/v1/notes/events as an EventSource does: from ?after=0,
// then, each time the stream ends, again after the retry delay it was told, with
// Last-Event-ID the last id it received.
type sseSubscriber struct {
	mu          sync.Mutex
	ids         []uint64
	problems    []string
	streams     int // streams opened
	cleanEnds   int // streams ended by the server with a retry: field last
	abruptEnds  int // streams that ended otherwise (not counting the one the test stops)
	abruptWhy   map[string]int
	connectErrs int
}

func (s *sseSubscriber) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) < 10 {
		s.problems = append(s.problems, fmt.Sprintf(format, args...))
	}
}

func (s *sseSubscriber) received() (n int, last uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) == 0 {
		return 0, 0
	}
	return len(s.ids), s.ids[len(s.ids)-1]
}

func (s *sseSubscriber) follow(ctx context.Context, client *http.Client, base string) {
	retry := 250 * time.Millisecond
	var last uint64
	first := true
	for ctx.Err() == nil {
		target := base + "/api/v1/notes/events"
		if first {
			target += "?after=0"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			s.problem("request: %v", err)
			return
		}
		if !first {
			req.Header.Set("Last-Event-ID", strconv.FormatUint(last, 10))
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.mu.Lock()
			s.connectErrs++
			s.mu.Unlock()
			time.Sleep(retry)
			continue
		}
		first = false
		s.mu.Lock()
		s.streams++
		s.mu.Unlock()
		if resp.StatusCode != http.StatusOK {
			s.problem("GET %s = %d", target, resp.StatusCode)
			resp.Body.Close()
			time.Sleep(retry)
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		lastField := ""
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, ":") {
				continue
			}
			field, value, _ := strings.Cut(line, ": ")
			lastField = field
			switch field {
			case "retry":
				if ms, err := strconv.Atoi(value); err == nil {
					retry = time.Duration(ms) * time.Millisecond
				}
			case "id":
				id, err := strconv.ParseUint(value, 10, 64)
				if err != nil {
					s.problem("id %q: %v", value, err)
					continue
				}
				s.mu.Lock()
				if id <= last {
					if len(s.problems) < 10 {
						s.problems = append(s.problems, fmt.Sprintf("event %d after %d: sent twice or out of order", id, last))
					}
				} else {
					s.ids = append(s.ids, id)
					last = id
				}
				s.mu.Unlock()
			}
		}
		err = sc.Err()
		resp.Body.Close()
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if err == nil && lastField == "retry" {
			s.cleanEnds++
		} else {
			s.abruptEnds++
			why := "last field " + lastField
			if err != nil {
				why = "read error " + restarttest.Classify(err) + ": " + err.Error()
			}
			if s.abruptWhy == nil {
				s.abruptWhy = map[string]int{}
			}
			s.abruptWhy[why]++
		}
		s.mu.Unlock()
		time.Sleep(retry)
	}
}

// allEvents reads every event of notes from a fresh stream, until it has want of them or
// nothing came for 3s.
func allEvents(ctx context.Context, base string, want int) ([]uint64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/notes/events?after=0", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	var ids []uint64
	for len(ids) < want {
		select {
		case line, ok := <-lines:
			if !ok {
				return ids, errors.New("the stream ended")
			}
			if v, found := strings.CutPrefix(line, "id: "); found {
				id, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return ids, err
				}
				ids = append(ids, id)
			}
		case <-time.After(3 * time.Second):
			return ids, nil
		}
	}
	return ids, nil
}

// 100 subscribers follow the events of a resource added with --events while a writer
// creates notes steadily and the server restarts 10 times (SIGHUP): every subscriber gets
// every event exactly once, in order, each stream the old generation served ends with a
// retry: field (none is cut), and no old generation takes ShutdownTimeout to go.
func TestEventStreamsSurviveRestarts(t *testing.T) {
	skipShort(t)
	for _, strategy := range []string{restarttest.Supervisor, restarttest.Fork, restarttest.Systemd} {
		t.Run(strategy, func(t *testing.T) {
			// The build first, outside the run's bound: it takes what the machine's load makes it.
			dir, err := fixtures.EventsProject(strategy)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fixtures.Binary(t.Context(), dir, "v1"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			testEventStreamsThroughRestarts(t, ctx, strategy)
		})
	}
}

func testEventStreamsThroughRestarts(t *testing.T, ctx context.Context, strategy string) {
	cfg := restarttest.ServerConfig{
		WorkDir:         t.TempDir(),
		ShutdownTimeout: eventsShutdown,
		ReadyTimeout:    20 * time.Second,
		Log:             logFile(t),
	}
	srv, err := fixtures.StartEvents(ctx, strategy, "v1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Kill)

	subCtx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: eventSubscribers}}
	subs := make([]*sseSubscriber, eventSubscribers)
	var wg sync.WaitGroup
	for i := range subs {
		subs[i] = &sseSubscriber{}
		wg.Go(func() { subs[i].follow(subCtx, client, srv.BaseURL) })
	}

	// The writer: a note every eventWriteEvery until the restarts are done.
	writeCtx, stopWriter := context.WithCancel(ctx)
	var created, writeErrs int
	var writer sync.WaitGroup
	writer.Go(func() {
		wclient := &http.Client{Timeout: 10 * time.Second}
		tick := time.NewTicker(eventWriteEvery)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-writeCtx.Done():
				return
			case <-tick.C:
			}
			body := fmt.Sprintf(`{"title":"note %d"}`, n)
			resp, err := wclient.Post(srv.BaseURL+"/api/v1/notes", "application/json", strings.NewReader(body))
			if err != nil {
				writeErrs++
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				created++
			} else {
				writeErrs++
			}
		}
	})

	time.Sleep(time.Second)
	var drains []time.Duration
	for i := range eventRestarts {
		before, err := srv.Health(ctx)
		if err != nil {
			t.Fatalf("restart %d: %v", i+1, err)
		}
		sent := time.Now()
		if err := srv.Signal(syscall.SIGHUP); err != nil {
			t.Fatalf("restart %d: SIGHUP: %v", i+1, err)
		}
		if _, err := srv.WaitFor(ctx, 30*time.Second, func(h restarttest.Health) bool { return h.PID != before.PID }); err != nil {
			t.Fatalf("restart %d: no new generation serves: %v", i+1, err)
		}
		served := time.Now()
		// The old generation ends its streams and goes; ShutdownTimeout is the bound it
		// must not reach.
		if err := restarttest.WaitGone(before.PID, eventsShutdown); err != nil {
			t.Fatalf("restart %d: the old generation (pid %d) still runs %s after the new one served: a stream held the drain to ShutdownTimeout", i+1, before.PID, eventsShutdown)
		}
		drains = append(drains, time.Since(served))
		t.Logf("restart %d: new generation after %s, old one gone %s later", i+1, served.Sub(sent).Round(time.Millisecond), drains[len(drains)-1].Round(time.Millisecond))
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	stopWriter()
	writer.Wait()

	want, err := allEvents(ctx, srv.BaseURL, created+writeErrs)
	if err != nil {
		t.Fatalf("read every event: %v", err)
	}
	if len(want) < created {
		t.Fatalf("the outbox holds %d events, the writer created %d notes", len(want), created)
	}
	// Every subscriber catches up with the last event, then stops.
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range subs {
		for {
			if _, last := s.received(); last >= want[len(want)-1] || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	stopSubs()
	wg.Wait()

	var streams, clean, abrupt, connectErrs int
	why := map[string]int{}
	for i, s := range subs {
		for k, v := range s.abruptWhy {
			why[k] += v
		}
		streams += s.streams
		clean += s.cleanEnds
		abrupt += s.abruptEnds
		connectErrs += s.connectErrs
		for _, p := range s.problems {
			t.Errorf("subscriber %d: %s", i, p)
		}
		if !slices.Equal(s.ids, want) {
			t.Errorf("subscriber %d received %d events, want the %d of the outbox exactly once, in order", i, len(s.ids), len(want))
		}
	}
	if abrupt > 0 {
		t.Errorf("%d streams ended without a retry: field (cut by a restart): %v", abrupt, why)
	}
	if clean < eventSubscribers*eventRestarts {
		t.Errorf("%d streams ended with retry:, want %d or more (each subscriber's at each restart)", clean, eventSubscribers*eventRestarts)
	}
	slices.Sort(drains)
	t.Logf("%s: %d events (%d notes created, %d write errors), %d subscribers, %d restarts: %d streams, %d ended with retry:, %d cut, %d failed connects; old generation gone after the new served: median %s, max %s",
		strategy, len(want), created, writeErrs, eventSubscribers, eventRestarts, streams, clean, abrupt, connectErrs,
		drains[len(drains)/2].Round(time.Millisecond), drains[len(drains)-1].Round(time.Millisecond))
}
