package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// The load of TestEventStreamsSurviveRestarts.
const (
	eventSubscribers = 100
	eventWebSockets  = 50 // of eventSubscribers, on the websocket endpoint
	eventRestarts    = 10
	eventWriteEvery  = 20 * time.Millisecond
	eventsShutdown   = 10 * time.Second // ShutdownTimeout: no restart may take it
)

// 100 subscribers, half on the server-sent event stream and half on the websocket, follow
// the events of a resource added with --events while a writer creates notes steadily and the
// server restarts 10 times (SIGHUP): every subscriber gets every event exactly once, in order
// (resuming with Last-Event-ID, or the websocket's ?after=), each stream the old generation
// served ends cleanly (SSE: a retry: field last; websocket: close status 1012, service
// restart), none is cut, and no old generation takes ShutdownTimeout to go.
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

	run, err := restarttest.RunStreams(ctx, srv, restarttest.StreamRunConfig{
		Plural:          "notes",
		PostBody:        func(n int) string { return fmt.Sprintf(`{"title":"note %d"}`, n) },
		WriteEvery:      eventWriteEvery,
		SSE:             eventSubscribers - eventWebSockets,
		WebSockets:      eventWebSockets,
		Restarts:        eventRestarts,
		ShutdownTimeout: eventsShutdown,
		Logf:            t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if run.SlowDrains > 0 {
		t.Errorf("%d of %d restarts: the old generation still ran %s after the new one served: a stream held the drain to ShutdownTimeout", run.SlowDrains, run.Restarts, eventsShutdown)
	}
	for _, l := range run.Late {
		t.Error(l)
	}
	if run.Created == 0 {
		t.Fatalf("the writer created no note (%d errors: %v)", run.WriteErrs, run.WriteByError)
	}
	// Each subscriber's stream at each restart ends cleanly: SSE with a retry: field, a
	// websocket with close status 1012 (service restart).
	checkStreams(t, run.Kinds, run.Events, run.Restarts)
	for _, k := range run.Kinds {
		var maxGap time.Duration
		if len(k.Gaps) > 0 {
			maxGap = k.Gaps[len(k.Gaps)-1]
		}
		t.Logf("%s: %d subscribers, %d streams, %d ended cleanly, %d cut, %d failed connects, close statuses %v, longest reconnect gap %s",
			k.Kind, k.Subscribers, k.Streams, k.CleanEnds, k.AbruptEnds, k.ConnectErrs, k.CloseCodes, maxGap.Round(time.Millisecond))
	}
	t.Logf("%s: %d events (%d notes created, %d write errors), %d restarts; old generation gone after the new served: median %s, max %s",
		strategy, run.Events, run.Created, run.WriteErrs, run.Restarts,
		run.Drains[len(run.Drains)/2].Round(time.Millisecond), run.Drains[len(run.Drains)-1].Round(time.Millisecond))
}

// checkStreams judges the subscribers of each kind (SSE and websocket, both wanted) after a
// run whose outbox held events: every subscriber received each event once, in order; no
// stream was cut; at least cleanEach streams of each subscriber ended cleanly (a drain's
// end: SSE's last retry: field, a websocket's close status 1012, which every socket the
// server closed must have).
func checkStreams(t *testing.T, kinds []restarttest.StreamFigures, events, cleanEach int) {
	t.Helper()
	if len(kinds) != 2 {
		t.Errorf("subscribers of %d kinds, want SSE and websocket", len(kinds))
	}
	for _, k := range kinds {
		for _, p := range k.Problems {
			t.Error(p)
		}
		if k.Exact != k.Subscribers {
			t.Errorf("%s: %d of %d subscribers received the %d events of the outbox exactly once, in order: %+v", k.Kind, k.Exact, k.Subscribers, events, k.Delivery)
		}
		if k.AbruptEnds > 0 {
			t.Errorf("%s: %d streams ended otherwise than a drain ends them: %v", k.Kind, k.AbruptEnds, k.AbruptWhy)
		}
		if k.CleanEnds < k.Subscribers*cleanEach {
			t.Errorf("%s: %d streams ended cleanly, want %d or more (%d a subscriber)", k.Kind, k.CleanEnds, k.Subscribers*cleanEach, cleanEach)
		}
		if k.Kind == restarttest.WebSocket && k.CloseCodes[int(websocket.StatusServiceRestart)] != k.CleanEnds+k.AbruptEnds {
			t.Errorf("websocket: close statuses %v, want 1012 (service restart) for every socket the server closed", k.CloseCodes)
		}
	}
}
