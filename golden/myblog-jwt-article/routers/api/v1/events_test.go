package v1

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"myblog/models"
)

// testEventPoll is the feeds' poll interval in these tests.
const testEventPoll = 5 * time.Millisecond

// sseEvent is one server-sent event as a client parses it.
type sseEvent struct {
	id, event, data string
	retry           string // a retry field's value
	comment         string // a comment line's text: the heartbeat's
}

// eventServer serves the events of resource at /events (ServeSSE) and /events/ws
// (ServeWebSocket), with every request's context ended by drain: outside restart.Run,
// restart.Stream's done is that context's Done, so drain does what a restart's drain does.
// Every handler that drain ends has its own connection; drain is idempotent.
func eventServer(t *testing.T, db *gorm.DB, resource string) (srv *httptest.Server, drain func()) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	feed := NewEventFeed(db, resource)
	feed.Poll = testEventPoll
	r := gin.New()
	r.GET("/events", feed.ServeSSE)
	r.GET("/events/ws", feed.ServeWebSocket)
	ctx, cancel := context.WithCancel(context.Background())
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rctx, stop := context.WithCancel(req.Context())
		defer stop()
		defer context.AfterFunc(ctx, stop)()
		r.ServeHTTP(w, req.WithContext(rctx))
	}))
	t.Cleanup(func() {
		cancel()
		srv.Close()
	})
	return srv, cancel
}

// subscribeSSE opens the stream at url with the headers given (name, value pairs) and
// returns the events it parses, the channel closed when the response ends.
func subscribeSSE(t *testing.T, url string, header ...string) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s = %d %s, want 200 text/event-stream", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 1024)
	go func() {
		defer close(out)
		defer func() { _ = resp.Body.Close() }()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if ev != (sseEvent{}) {
					out <- ev
				}
				ev = sseEvent{}
				continue
			}
			field, value, _ := strings.Cut(line, ": ")
			switch field {
			case "id":
				ev.id = value
			case "event":
				ev.event = value
			case "data":
				ev.data = value
			case "retry":
				ev.retry = value
			case "":
				ev.comment = value
			}
		}
	}()
	return out
}

// nextField returns the next event, bare retry field or comment of ch.
func nextField(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("nothing on the stream within 10s")
		return sseEvent{}
	}
}

// nextEvent returns the next event of ch that is not a bare retry field or a heartbeat.
func nextEvent(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	for {
		if ev := nextField(t, ch); ev.id != "" || (ev.retry == "" && ev.comment == "") {
			return ev
		}
	}
}

// recordEvents writes n events of resource, each in a transaction of its own, and returns
// their ids.
func recordEvents(t *testing.T, db *gorm.DB, resource string, n int) []uint64 {
	t.Helper()
	var ids []uint64
	for i := range n {
		err := db.Transaction(func(tx *gorm.DB) error {
			return models.RecordEvent(tx, resource, models.EventUpdated, uint(i+1), map[string]int{"n": i})
		})
		if err != nil {
			t.Fatal(err)
		}
		last, err := models.LastEventID(t.Context(), db, resource)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, last)
	}
	return ids
}

func TestEventStreamReplaysAfterLastEventIDThenStreamsNewOnesOnce(t *testing.T) {
	db := newTestDB(t)
	ids := recordEvents(t, db, "widgets", 5)
	recordEvents(t, db, "others", 2) // another resource's events are not the widgets'
	srv, _ := eventServer(t, db, "widgets")
	for _, tc := range []struct {
		name   string
		header []string
		query  string
	}{
		{"Last-Event-ID", []string{"Last-Event-ID", strconv.FormatUint(ids[1], 10)}, ""},
		{"?after", nil, "?after=" + strconv.FormatUint(ids[1], 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := subscribeSSE(t, srv.URL+"/events"+tc.query, tc.header...)
			want := ids[2:]
			for _, id := range want {
				ev := nextEvent(t, events)
				if ev.id != strconv.FormatUint(id, 10) || ev.event != models.EventUpdated || !strings.HasPrefix(ev.data, `{"n":`) {
					t.Fatalf("replayed %+v, want id %d, event updated, data {\"n\":...}", ev, id)
				}
			}
			// Live: written after the stream caught up, delivered in order, once.
			live := recordEvents(t, db, "widgets", 3)
			for _, id := range live {
				if ev := nextEvent(t, events); ev.id != strconv.FormatUint(id, 10) {
					t.Fatalf("live event %s, want %d (in order, each once)", ev.id, id)
				}
			}
			ids = append(ids, live...)
		})
	}
}

func TestEventStreamWithoutAPositionStartsAtTheNewestEvent(t *testing.T) {
	db := newTestDB(t)
	recordEvents(t, db, "widgets", 3)
	srv, _ := eventServer(t, db, "widgets")
	events := subscribeSSE(t, srv.URL+"/events")
	// The subscription is live once its first retry field arrived.
	if ev := nextField(t, events); ev.retry == "" {
		t.Fatalf("first field %+v, want the retry field", ev)
	}
	next := recordEvents(t, db, "widgets", 1)
	// The next field, not only the next event: the retry field came with the headers, not
	// held back until a heartbeat flushed it (a stream not seen open for eventHeartbeat).
	if ev := nextField(t, events); ev.id != strconv.FormatUint(next[0], 10) {
		t.Fatalf("next field %+v, want event %d: the events before the subscription are not replayed, and no heartbeat comes first", ev, next[0])
	}
}

func TestEventStreamRefusesAPositionThatIsNoID(t *testing.T) {
	db := newTestDB(t)
	srv, _ := eventServer(t, db, "widgets")
	for _, tc := range []struct{ query, header string }{
		{"?after=-1", ""}, {"?after=abc", ""}, {"?after=99999999999999999999", ""}, {"", "1e3"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/events"+tc.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.header != "" {
			req.Header.Set("Last-Event-ID", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /events%s (Last-Event-ID %q) = %d, want 400", tc.query, tc.header, resp.StatusCode)
		}
	}
}

func TestEventStreamEndsWithRetryWhenTheServerDrains(t *testing.T) {
	db := newTestDB(t)
	srv, drain := eventServer(t, db, "widgets")
	events := subscribeSSE(t, srv.URL+"/events?after=0")
	ids := recordEvents(t, db, "widgets", 2)
	for _, id := range ids {
		if ev := nextEvent(t, events); ev.id != strconv.FormatUint(id, 10) {
			t.Fatalf("event %s, want %d", ev.id, id)
		}
	}
	drain()
	var last sseEvent
	deadline := time.After(10 * time.Second)
	for ended := false; !ended; {
		select {
		case ev, ok := <-events:
			if !ok {
				ended = true
				break
			}
			last = ev
		case <-deadline:
			t.Fatal("the stream did not end within 10s of the drain")
		}
	}
	if want := strconv.FormatInt(DefaultEventRetry.Milliseconds(), 10); last.retry != want || last.id != "" {
		t.Errorf("the stream ended with %+v, want a bare retry: %s", last, want)
	}
}

// An HTTP/1.1 stream closes its connection when it ends: after a drain the client's
// reconnection takes a new connection, to the new generation, instead of the kept-alive one
// to the generation that drains.
func TestEventStreamClosesItsConnectionWhenItEnds(t *testing.T) {
	db := newTestDB(t)
	srv, drain := eventServer(t, db, "widgets")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/events?after=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("GET /events = %d, Connection %q; want 200 with Connection: close", resp.StatusCode, resp.Header.Get("Connection"))
	}
	drain()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Errorf("read the stream to its end: %v", err)
	}
	// A request that fails is answered without it: the connection can serve the next one.
	bad, err := http.Get(srv.URL + "/events?after=x")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bad.Body.Close() }()
	if bad.StatusCode != http.StatusBadRequest || bad.Close {
		t.Errorf("GET /events?after=x = %d, Connection %q; want 400, the connection kept", bad.StatusCode, bad.Header.Get("Connection"))
	}
}

// dialEvents opens the websocket of srv's events after the id after.
func dialEvents(t *testing.T, srv *httptest.Server, after uint64) *websocket.Conn {
	t.Helper()
	url := fmt.Sprintf("ws%s/events/ws?after=%d", strings.TrimPrefix(srv.URL, "http"), after)
	conn, resp, err := websocket.Dial(t.Context(), url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if resp.Body != nil {
		_ = resp.Body.Close()
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

func TestEventWebSocketReplaysStreamsAndClosesWith1012WhenTheServerDrains(t *testing.T) {
	db := newTestDB(t)
	ids := recordEvents(t, db, "widgets", 3)
	srv, drain := eventServer(t, db, "widgets")
	conn := dialEvents(t, srv, ids[0])
	want := append(ids[1:], recordEvents(t, db, "widgets", 2)...)
	for _, id := range want {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		var ev Event
		err := wsjson.Read(ctx, conn, &ev)
		cancel()
		if err != nil {
			t.Fatalf("read event %d: %v", id, err)
		}
		if ev.ID != id || ev.Action != models.EventUpdated || !strings.HasPrefix(string(ev.Data), `{"n":`) {
			t.Fatalf("got %+v (data %s), want id %d, action updated", ev, ev.Data, id)
		}
	}
	drain()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var ev Event
	err := wsjson.Read(ctx, conn, &ev)
	if status := websocket.CloseStatus(err); status != websocket.StatusServiceRestart {
		t.Fatalf("after the drain: read %+v, %v (status %d), want the close status 1012 (service restart)", ev, err, status)
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) && ce.Reason != "service restart" {
		t.Errorf("close reason %q, want \"service restart\"", ce.Reason)
	}
}

func TestEventWebSocketRefusesAPlainRequest(t *testing.T) {
	db := newTestDB(t)
	srv, _ := eventServer(t, db, "widgets")
	resp, err := http.Get(srv.URL + "/events/ws")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("GET /events/ws without the handshake = %d, want 426", resp.StatusCode)
	}
}

// pruneAll prunes every event recorded so far: each resource keeps its newest as the marker.
func pruneAll(t *testing.T, db *gorm.DB) {
	t.Helper()
	if _, err := models.PruneEvents(t.Context(), db, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// A client that resumes from before the pruned marker has missed deleted events: it gets
// 410, not a stream with a gap; ?after=0 replays what is kept, and a client at the marker
// or after it resumes as if nothing was pruned. The marker itself is never sent.
func TestEventStreamAnswersGoneBeforeThePrunedEvents(t *testing.T) {
	db := newTestDB(t)
	old := recordEvents(t, db, "widgets", 3)
	pruneAll(t, db) // deletes old[0] and old[1]; old[2] becomes the marker
	kept := recordEvents(t, db, "widgets", 2)
	srv, _ := eventServer(t, db, "widgets")
	for _, tc := range []struct{ query, header string }{
		{"?after=" + strconv.FormatUint(old[0], 10), ""},
		{"", strconv.FormatUint(old[1], 10)},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/events"+tc.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.header != "" {
			req.Header.Set("Last-Event-ID", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body ErrorResponse
		err = json.NewDecoder(resp.Body).Decode(&body)
		_ = resp.Body.Close()
		name := "after"
		if tc.header != "" {
			name = "Last-Event-ID"
		}
		if resp.StatusCode != http.StatusGone || err != nil || !strings.Contains(body.Fields[name], "Retention") {
			t.Errorf("GET /events%s (Last-Event-ID %q) = %d %+v (%v), want 410 naming %s and the retention", tc.query, tc.header, resp.StatusCode, body, err, name)
		}
	}
	for _, tc := range []struct {
		name, query string
		want        []uint64
	}{
		{"every event kept", "?after=0", kept},
		{"at the marker", "?after=" + strconv.FormatUint(old[2], 10), kept},
		{"after the marker", "?after=" + strconv.FormatUint(kept[0], 10), kept[1:]},
	} {
		events := subscribeSSE(t, srv.URL+"/events"+tc.query)
		for _, id := range tc.want {
			if ev := nextEvent(t, events); ev.id != strconv.FormatUint(id, 10) || ev.event != models.EventUpdated {
				t.Fatalf("%s: event %s %q, want %d updated (never the marker)", tc.name, ev.id, ev.event, id)
			}
		}
	}
}

// A stream that lags behind while its next events are pruned ends (errPruned) instead of
// going on with a gap: the events it had been given are the ones before the marker.
func TestAStreamWhoseNextEventsArePrunedEnds(t *testing.T) {
	db := newTestDB(t)
	first := recordEvents(t, db, "widgets", 2)
	feed := NewEventFeed(db, "widgets")
	feed.Poll = testEventPoll
	var sent []uint64
	send := func(evs []models.OutboxEvent) error {
		for _, ev := range evs {
			sent = append(sent, ev.ID)
		}
		if len(sent) == len(first) {
			// Two more events, pruned with everything before them before the stream reads
			// again: it lags behind the marker.
			recordEvents(t, db, "widgets", 2)
			pruneAll(t, db)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := feed.follow(ctx, make(chan struct{}), 0, send, func() error { return nil })
	if !errors.Is(err, errPruned) {
		t.Fatalf("follow returned %v, want errPruned", err)
	}
	if fmt.Sprint(sent) != fmt.Sprint(first) {
		t.Errorf("sent %v, want only the events before the prune %v", sent, first)
	}
}
