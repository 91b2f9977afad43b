package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/rollbench"
)

// rollSubscribers follow the events through TestRollingUpdateBehindHAProxyLosesNoRequest.
const rollSubscribers = 20

// maxOf is the last of sorted durations, 0 for none.
func maxOf(sorted []time.Duration) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[len(sorted)-1]
}

// TestRollingUpdateBehindHAProxyLosesNoRequest rolls 3 replicas of the golden PostgreSQL
// project (plus a resource, for POSTs that write to the database) behind a real HAProxy that
// health-checks /readyz, one at a time under 64 clients: SIGTERM, DrainDelay with /readyz
// 503, drain, exit; a replica of a rebuilt binary on the same port, reported UP; the next.
// No request may fail, with HAProxy's retries and without them, and after the roll only the
// new version answers. Through the same roll, 20 subscribers follow, through HAProxy, the
// events of a resource added with --events (half on the server-sent event stream, half on
// the websocket) while a writer creates one every 20ms: each subscriber, its replica drained
// (SSE: a last retry:; websocket: close status 1012), reconnects through HAProxy to another
// one and resumes, and receives every event exactly once, in order; no replica's drain waits
// out ShutdownTimeout. The same roll without DrainDelay is cmd/rollbench's baseline; it is
// reported, not asserted.
func TestRollingUpdateBehindHAProxyLosesNoRequest(t *testing.T) {
	skipShort(t)
	haproxy := requireTool(t, "haproxy")
	psql := requireTool(t, "psql")
	srv := requireServer(t, "postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	work := t.TempDir()
	project, from, to, err := rollbench.Prepare(ctx, filepath.Join("..", "golden"), work, "roll-v1", "roll-v2")
	if err != nil {
		t.Fatal(err)
	}
	db := rollbench.Database{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password}
	name := fmt.Sprintf("gingen_roll_%d", os.Getpid())
	if err := db.SQL(ctx, psql, srv.Name, "DROP DATABASE IF EXISTS "+name); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL(ctx, psql, srv.Name, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = db.SQL(context.Background(), psql, srv.Name, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})

	log := logFile(t)
	// With the HAProxy configuration a user would ship (retries on refused connections), and
	// with retries off, as a load balancer that never retries: DrainDelay alone must do.
	for _, noRetry := range []bool{false, true} {
		t.Run(fmt.Sprintf("HAProxy retries %t", !noRetry), func(t *testing.T) {
			fig, err := rollbench.Run(ctx, rollbench.Config{
				Project: project, From: from, To: to, FromVersion: "roll-v1", ToVersion: "roll-v2",
				EnvPrefix: "MYBLOG", DBEnv: db.Env("MYBLOG", name),
				Replicas: 3, KeepAlive: 48, Fresh: 16, DrainDelay: 2 * time.Second, NoRetry: noRetry,
				Subscribers: rollSubscribers,
				HAProxy:     haproxy, WorkDir: filepath.Join(work, fmt.Sprintf("run-%t", noRetry)), Log: log,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", fig)
			if fig.Rolls != 3 {
				t.Errorf("%d replicas rolled, want 3", fig.Rolls)
			}
			if fig.Sent < 1000 || fig.Posts == 0 {
				t.Errorf("%d requests (%d POSTs): the load did not run", fig.Sent, fig.Posts)
			}
			if fig.Failed != 0 {
				t.Errorf("%d of %d requests failed during the rolling update: %v", fig.Failed, fig.Sent, fig.ByError)
			}
			if fig.SlowStops != 0 {
				t.Errorf("%d replicas took DrainDelay plus ShutdownTimeout or more to stop (%v): a stream held the drain", fig.SlowStops, fig.StopTimes)
			}
			if fig.Notices == 0 || fig.NoticeErrs != 0 {
				t.Errorf("the event writer created %d notices, %d failed: %v", fig.Notices, fig.NoticeErrs, fig.NoticeByError)
			}
			// Every replica is drained once: each subscriber's stream ends cleanly at least
			// once (its replica's), and it reconnects.
			checkStreams(t, fig.Streams, fig.Events, 1)
			for _, k := range fig.Streams {
				if k.Reconnects() < k.Subscribers {
					t.Errorf("%s: %d reconnects, want %d or more", k.Kind, k.Reconnects(), k.Subscribers)
				}
				t.Logf("%s: %d subscribers, %+v, %d streams, %d ended cleanly, %d reconnects (%d failed connects), longest gap %s",
					k.Kind, k.Subscribers, k.Delivery, k.Streams, k.CleanEnds, k.Reconnects(), k.ConnectErrs, maxOf(k.Gaps).Round(time.Millisecond))
			}
			if len(fig.LastVersions) != 1 || fig.LastVersions["roll-v2"] == 0 {
				t.Errorf("after the roll /healthz answered versions %v, want roll-v2 only", fig.LastVersions)
			}
		})
	}
}
