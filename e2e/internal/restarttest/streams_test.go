package restarttest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

func TestCompare(t *testing.T) {
	want := []uint64{1, 2, 3, 4, 5}
	for _, tc := range []struct {
		name     string
		received []uint64
		d        Delivery
	}{
		{"exact", []uint64{1, 2, 3, 4, 5}, Delivery{Delivered: 5}},
		{"nothing", nil, Delivery{Missing: 5}},
		{"a gap", []uint64{1, 2, 4, 5}, Delivery{Delivered: 4, Missing: 1}},
		{"a duplicate", []uint64{1, 2, 2, 3, 4, 5}, Delivery{Delivered: 5, Duplicates: 1}},
		{"replayed from the start", []uint64{1, 2, 3, 1, 2, 3, 4, 5}, Delivery{Delivered: 5, Duplicates: 3}},
		{"out of order", []uint64{1, 3, 2, 4, 5}, Delivery{Delivered: 5, OutOfOrder: 1}},
		{"unknown ids", []uint64{1, 2, 3, 4, 5, 9}, Delivery{Delivered: 5, Unknown: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(tc.received, want)
			if d != tc.d {
				t.Errorf("Compare(%v) = %+v, want %+v", tc.received, d, tc.d)
			}
			if d.Exact() != (tc.name == "exact") {
				t.Errorf("Exact() = %t", d.Exact())
			}
		})
	}
}

// fakeFeed serves events 1..total of "notes" as the generated EventFeed does, perStream at
// most per stream, each stream then ended as end says: "clean" (SSE retry:, websocket 1012),
// "cut" (the connection closed without either), "replay" (clean, but every stream starts
// one event early: a duplicate per reconnect), "going away" (websocket 1001).
func fakeFeed(t *testing.T, total, perStream uint64, end string) *httptest.Server {
	t.Helper()
	next := func(r *http.Request, header string) uint64 {
		v := r.Header.Get(header)
		if v == "" {
			v = r.URL.Query().Get("after")
		}
		after, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Errorf("start %q: %v", v, err)
		}
		if end == "replay" && after > 0 {
			return after
		}
		return after + 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/notes/events", func(w http.ResponseWriter, r *http.Request) {
		from := next(r, "Last-Event-ID")
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 10\n\n")
		for id := from; id <= total && id < from+perStream; id++ {
			fmt.Fprintf(w, "id: %d\nevent: created\ndata: {}\n\n", id)
		}
		if from > total {
			<-r.Context().Done() // caught up: the stream stays open
			return
		}
		if end != "cut" {
			fmt.Fprint(w, "retry: 10\n\n")
		}
	})
	mux.HandleFunc("GET /api/v1/notes/events/ws", func(w http.ResponseWriter, r *http.Request) {
		from := next(r, "")
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = conn.CloseNow() }()
		ctx := conn.CloseRead(context.Background())
		for id := from; id <= total && id < from+perStream; id++ {
			if err := wsjson.Write(ctx, conn, map[string]any{"id": id, "action": "created", "data": map[string]any{}}); err != nil {
				return
			}
		}
		switch {
		case from > total:
			<-ctx.Done()
		case end == "cut":
			return // CloseNow: no close frame
		case end == "going away":
			_ = conn.Close(websocket.StatusGoingAway, "")
		default:
			_ = conn.Close(websocket.StatusServiceRestart, "service restart")
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestSubscribersThroughStreamEnds(t *testing.T) {
	want := make([]uint64, 25)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	for _, tc := range []struct {
		end string
		// what each kind's figures must say: exact subscribers, clean ends, abrupt ends,
		// duplicates
		exact, clean, abrupt, dups bool
	}{
		{end: "clean", exact: true, clean: true},
		{end: "cut", exact: true, abrupt: true},
		{end: "replay", clean: true, dups: true},
	} {
		t.Run(tc.end, func(t *testing.T) {
			srv := fakeFeed(t, 25, 10, tc.end)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			g := StartSubscribers(ctx, srv.URL, "notes", 3, 2)
			g.CatchUp(25, 10*time.Second)
			g.Stop()
			figs := g.Figures(want)
			if len(figs) != 2 || figs[0].Kind != SSE || figs[0].Subscribers != 3 || figs[1].Kind != WebSocket || figs[1].Subscribers != 2 {
				t.Fatalf("figures %+v, want 3 SSE then 2 websocket subscribers", figs)
			}
			for _, f := range figs {
				if got := f.Exact == f.Subscribers; got != tc.exact {
					t.Errorf("%s: %d of %d exact (%+v)", f.Kind, f.Exact, f.Subscribers, f.Delivery)
				}
				if f.Missing != 0 || f.Delivered != 25*f.Subscribers {
					t.Errorf("%s: %+v, want every event delivered", f.Kind, f.Delivery)
				}
				// 25 events 10 a stream: 3 streams each, the first two ended by the server.
				ends := 2 * f.Subscribers
				if (f.CleanEnds >= ends) != tc.clean || (f.AbruptEnds >= ends) != tc.abrupt {
					t.Errorf("%s: %d clean ends, %d abrupt (%v), want clean %t abrupt %t", f.Kind, f.CleanEnds, f.AbruptEnds, f.AbruptWhy, tc.clean, tc.abrupt)
				}
				if (f.Duplicates > 0) != tc.dups {
					t.Errorf("%s: %d duplicates", f.Kind, f.Duplicates)
				}
				if f.Reconnects() < ends || len(f.Gaps) != f.Reconnects() {
					t.Errorf("%s: %d reconnects, want %d or more", f.Kind, f.Reconnects(), ends)
				}
				if f.Kind == WebSocket && tc.end == "clean" && f.CloseCodes[int(websocket.StatusServiceRestart)] < ends {
					t.Errorf("websocket close statuses %v, want 1012 for each end", f.CloseCodes)
				}
			}
		})
	}
}

func TestWebSocketCloseStatusOtherThanRestartIsAbrupt(t *testing.T) {
	srv := fakeFeed(t, 5, 2, "going away")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	g := StartSubscribers(ctx, srv.URL, "notes", 0, 1)
	g.CatchUp(5, 10*time.Second)
	g.Stop()
	figs := g.Figures([]uint64{1, 2, 3, 4, 5})
	if len(figs) != 1 || figs[0].Kind != WebSocket {
		t.Fatalf("figures %+v, want one websocket subscriber", figs)
	}
	f := figs[0]
	if f.CleanEnds != 0 || f.AbruptEnds < 2 || f.CloseCodes[int(websocket.StatusGoingAway)] < 2 || f.AbruptWhy["close status 1001"] < 2 {
		t.Errorf("closes with 1001: %d clean, %d abrupt %v, statuses %v; want them abrupt", f.CleanEnds, f.AbruptEnds, f.AbruptWhy, f.CloseCodes)
	}
	if f.Exact != 1 {
		t.Errorf("%+v: the subscriber still resumes after each close", f.Delivery)
	}
}

func TestWriterCountsFailures(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	w := StartWriter(t.Context(), srv.URL, "/api/v1/notes", time.Millisecond, func(n int) string { return "{}" })
	time.Sleep(100 * time.Millisecond)
	created, failed, byError := w.Stop()
	if created == 0 || failed == 0 || byError["status 503"] != failed {
		t.Errorf("created %d, failed %d %v; want both, the failures as status 503", created, failed, byError)
	}
}
