package v1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gingen/gingen/restart"

	"myblog/models"
)

// The defaults of an EventFeed.
const (
	// DefaultEventPoll is how often a stream reads the outbox for events after the last it
	// sent: the longest an event waits before it is delivered.
	DefaultEventPoll = 100 * time.Millisecond
	// DefaultEventRetry is the reconnection delay a server-sent event stream tells its
	// client when the server restarts or shuts down.
	DefaultEventRetry = 250 * time.Millisecond
	// eventBatch is the most events one read of the outbox returns.
	eventBatch = 500
	// eventHeartbeat is how long a stream stays silent at most: a comment keeps proxies
	// from closing an idle stream and finds clients that went away.
	eventHeartbeat = 15 * time.Second
	// eventWriteTimeout bounds the write of one websocket message to a slow client.
	eventWriteTimeout = 10 * time.Second
)

// EventFeed serves the outbox events (models.OutboxEvent) of one resource live, as
// server-sent events (ServeSSE) and over a websocket (ServeWebSocket).
//
// A stream reads the outbox for the events after the last one it sent, every Poll: the
// table, not memory, is the source, so a client resumes exactly after the last id it saw
// whichever process, generation or replica serves it, and an event written by another
// process is delivered as one written by this one. Events are written in the transaction of
// their change, with the outbox locked until it commits (models.RecordEvent), so ids are
// committed in their order and reading after the last id sent misses none.
//
// Each stream registers with the restart library (restart.Stream): when the generation
// serving it drains (a restart, once the new generation serves, or a shutdown), a
// server-sent event stream sends a last "retry:" and ends, and a websocket closes with
// status 1012 (service restart); the client reconnects, to the new generation, and resumes.
type EventFeed struct {
	db       *gorm.DB
	resource string
	// Poll is how often the outbox is read; Retry the delay a server-sent event stream
	// tells its client to wait before it reconnects after a restart.
	Poll, Retry time.Duration
}

// NewEventFeed returns the feed of the resource with this plural, with the default intervals.
func NewEventFeed(db *gorm.DB, resource string) *EventFeed {
	return &EventFeed{db: db, resource: resource, Poll: DefaultEventPoll, Retry: DefaultEventRetry}
}

// Event is one message of the websocket: the outbox id, the action (created, updated,
// deleted) and the record as written (for a deletion, its id).
type Event struct {
	ID     uint64          `json:"id"`
	Action string          `json:"action"`
	Data   json.RawMessage `json:"data"`
}

// start is the id a stream starts after: the Last-Event-ID header a reconnecting
// EventSource sends, else ?after=ID, else the newest event's (a new client gets the events
// from now on). It answers 400 and returns false for an id that is not a number, and 410 for
// one before the events kept (models.EventHorizon): the client has missed pruned events, and
// must read the resource again and follow from now.
func (f *EventFeed) start(c *gin.Context) (uint64, bool) {
	from, name := c.GetHeader("Last-Event-ID"), "Last-Event-ID"
	if from == "" {
		from, name = c.Query("after"), "after"
	}
	if from == "" {
		last, err := models.LastEventID(c.Request.Context(), f.db, f.resource)
		if err != nil {
			respondInternal(c, err)
			return 0, false
		}
		return last, true
	}
	after, err := strconv.ParseUint(from, 10, 64)
	if err != nil {
		respondError(c, http.StatusBadRequest, "invalid "+name, map[string]string{name: "must be an event id, a whole number of 0 or more"})
		return 0, false
	}
	// The events before the horizon were pruned ([events] Retention): 0 asks for every
	// event kept, and a position below the horizon cannot be resumed without a gap.
	horizon, err := models.EventHorizon(c.Request.Context(), f.db, f.resource)
	if err != nil {
		respondInternal(c, err)
		return 0, false
	}
	if after == 0 {
		return horizon, true
	}
	if after < horizon {
		respondError(c, http.StatusGone, "events pruned", map[string]string{name: fmt.Sprintf(
			"the %s events before %d were deleted ([events] Retention): read the %s again, then follow from now, without %s", f.resource, horizon, f.resource, name)})
		return 0, false
	}
	return after, true
}

// streamDeadlines lifts the server's read and write timeouts for a stream that lasts: the
// drain, not a timeout, ends it.
func streamDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	// A writer that cannot set deadlines has none to lift.
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
}

// ServeSSE streams the events as server-sent events: "id:" the outbox id (what the client
// sends back as Last-Event-ID), "event:" the action, "data:" the record as JSON. It first
// sends every event after the start id, then the new ones, in id order, each once.
func (f *EventFeed) ServeSSE(c *gin.Context) {
	after, ok := f.start(c)
	if !ok {
		return
	}
	done, end := restart.Stream(c.Request)
	defer end()
	ctx := c.Request.Context()
	w := c.Writer
	streamDeadlines(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	if c.Request.ProtoMajor == 1 {
		// The connection ends with the stream. A stream ends when its generation drains;
		// a client reconnecting on the same kept-alive connection would reach that
		// generation again, be told to retry at once and come back a retry delay later,
		// where a new connection reaches the new generation (or another replica) at once.
		// HTTP/2 multiplexes its streams, and a drain sends GOAWAY.
		h.Set("Connection", "close")
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(evs []models.OutboxEvent) error {
		for _, ev := range evs {
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Action, ev.Payload); err != nil {
				return fmt.Errorf("send event %d: %w", ev.ID, err)
			}
		}
		return rc.Flush()
	}
	// The retry field first (the delay a client waits before it reconnects after a network
	// failure too), flushed with the headers: the client sees its stream open now, not with
	// the first event or heartbeat, up to eventHeartbeat later.
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", f.Retry.Milliseconds()); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	err := f.follow(ctx, done, after, send, func() error {
		_, err := fmt.Fprint(w, ": keep-alive\n\n")
		if err != nil {
			return fmt.Errorf("send keep-alive: %w", err)
		}
		return rc.Flush()
	})
	if errors.Is(err, errPruned) {
		// The client comes back with its Last-Event-ID, and start answers it 410.
		return
	}
	if errors.Is(err, errDraining) {
		// The generation drains: tell the client to come back (to the next one) and end.
		if _, err := fmt.Fprintf(w, "retry: %d\n\n", f.Retry.Milliseconds()); err == nil {
			_ = rc.Flush()
		}
		return
	}
	f.logEnd(ctx, err)
}

// ServeWebSocket streams the events over a websocket, one JSON message (Event) each, after
// the start id (?after=ID): as ServeSSE does. A restart closes it with status 1012 (service
// restart); the client reconnects with ?after= the last id it received.
func (f *EventFeed) ServeWebSocket(c *gin.Context) {
	after, ok := f.start(c)
	if !ok {
		return
	}
	streamDeadlines(c.Writer)
	conn, err := websocket.Accept(c.Writer, c.Request, nil)
	if err != nil {
		// Accept answered the request (400, 403 or 426) itself.
		slog.DebugContext(c.Request.Context(), "websocket refused", slog.String("resource", f.resource), slog.Any("error", err))
		return
	}
	defer func() { _ = conn.CloseNow() }()
	done, end := restart.Stream(c.Request)
	defer end()
	// The client sends nothing but control frames: CloseRead reads them, and its context
	// ends when the client closes or goes away. A hijacked connection outlives the request's
	// context as net/http sees it: the drain (done) and CloseRead end it, not that context.
	ctx := conn.CloseRead(context.WithoutCancel(c.Request.Context()))
	send := func(evs []models.OutboxEvent) error {
		for _, ev := range evs {
			wctx, cancel := context.WithTimeout(ctx, eventWriteTimeout)
			err := wsjson.Write(wctx, conn, Event{ID: ev.ID, Action: ev.Action, Data: json.RawMessage(ev.Payload)})
			cancel()
			if err != nil {
				return fmt.Errorf("send event %d: %w", ev.ID, err)
			}
		}
		return nil
	}
	err = f.follow(ctx, done, after, send, func() error {
		pctx, cancel := context.WithTimeout(ctx, eventWriteTimeout)
		defer cancel()
		if err := conn.Ping(pctx); err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		return nil
	})
	if errors.Is(err, errPruned) {
		_ = conn.Close(StatusEventsPruned, "events pruned: read the resource again, then follow from now")
		return
	}
	if errors.Is(err, errDraining) {
		// The close handshake, bounded by the library (5s), then the drain goes on.
		_ = conn.Close(websocket.StatusServiceRestart, "service restart")
		return
	}
	f.logEnd(ctx, err)
}

// errDraining ends follow when the generation drains.
var errDraining = errors.New("the server restarts or shuts down")

// errPruned ends follow when the events after the last one it sent were pruned while the
// stream lagged behind ([events] Retention): it cannot go on without a gap.
var errPruned = errors.New("the events to send next were pruned")

// StatusEventsPruned is the websocket close status of a stream whose next events were
// pruned while it lagged behind: the client reads the resource again and follows from now.
const StatusEventsPruned websocket.StatusCode = 4410

// follow sends the events after the id after, in order, then every new one as the outbox
// gets it, read every f.Poll; quiet is called after eventHeartbeat without an event. It
// returns errDraining once done closes, or the error that ended the stream (the client gone:
// ctx's error).
func (f *EventFeed) follow(ctx context.Context, done <-chan struct{}, after uint64, send func([]models.OutboxEvent) error, quiet func() error) error {
	tick := time.NewTicker(f.Poll)
	defer tick.Stop()
	lastSent := time.Now()
	for {
		select {
		case <-done:
			return errDraining
		default:
		}
		evs, err := models.EventsAfter(ctx, f.db, f.resource, after, eventBatch)
		if err != nil {
			return drainedOr(done, err)
		}
		// A pruned marker after the last event sent: the events up to it are gone.
		pruned := slices.IndexFunc(evs, func(ev models.OutboxEvent) bool { return ev.Action == models.EventPruned })
		if pruned >= 0 {
			evs = evs[:pruned]
		}
		if len(evs) > 0 {
			if err := send(evs); err != nil {
				return drainedOr(done, err)
			}
			after, lastSent = evs[len(evs)-1].ID, time.Now()
		}
		switch {
		case pruned >= 0:
			return errPruned
		case len(evs) == eventBatch:
			continue // more are waiting
		case len(evs) == 0 && time.Since(lastSent) >= eventHeartbeat:
			if err := quiet(); err != nil {
				return err
			}
			lastSent = time.Now()
		}
		select {
		case <-done:
			return errDraining
		case <-ctx.Done():
			// Outside restart.Run, done is the request's context's Done: both end at once.
			return drainedOr(done, fmt.Errorf("stream of %s events: %w", f.resource, ctx.Err()))
		case <-tick.C:
		}
	}
}

// drainedOr is errDraining once done is closed (a read or write the drain cut short), else err.
func drainedOr(done <-chan struct{}, err error) error {
	select {
	case <-done:
		return errDraining
	default:
		return err
	}
}

// logEnd logs why a stream ended, unless its client went away, as clients do.
func (f *EventFeed) logEnd(ctx context.Context, err error) {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || websocket.CloseStatus(err) != -1 {
		return
	}
	slog.WarnContext(ctx, "event stream ended", slog.String("resource", f.resource), slog.Any("error", err))
}
