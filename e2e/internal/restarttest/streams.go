package restarttest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// The kinds of event stream a generated resource added with --events serves.
const (
	// SSE is GET /api/v1/PLURAL/events, resumed with the Last-Event-ID header.
	SSE = "sse"
	// WebSocket is GET /api/v1/PLURAL/events/ws, resumed with ?after= the last id.
	WebSocket = "websocket"
)

// StreamKinds are the kinds, in the order reports list them.
func StreamKinds() []string { return []string{SSE, WebSocket} }

// defaultStreamRetry is the reconnection delay of a subscriber until the server tells one
// (SSE's retry: field; the generated projects' DefaultEventRetry, for both kinds).
const defaultStreamRetry = 250 * time.Millisecond

// Subscriber follows the events of a resource as a client would: an SSE subscriber as an
// EventSource does (from ?after=0, then, each time the stream ends, again after the retry
// delay it was told, with Last-Event-ID the last id it received); a websocket subscriber
// from ?after=0, then, each time the socket closes, again with ?after= the last id it
// received. It records every id it receives, duplicates included, and how each stream ended.
type Subscriber struct {
	Kind string

	mu          sync.Mutex
	ids         []uint64
	last        uint64
	problems    []string
	streams     int // streams opened
	cleanEnds   int // SSE: ended with a retry: field last; websocket: closed with 1012
	abruptEnds  int // ended otherwise (not counting the one the caller stops)
	abruptWhy   map[string]int
	closeCodes  map[int]int // websocket: close status of each stream the server ended
	connectErrs int
	gaps        []time.Duration // from a stream's end to the next stream's start
}

// NewSubscriber returns a subscriber of kind (SSE or WebSocket).
func NewSubscriber(kind string) *Subscriber {
	return &Subscriber{Kind: kind, abruptWhy: map[string]int{}, closeCodes: map[int]int{}}
}

func (s *Subscriber) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) < 10 {
		s.problems = append(s.problems, fmt.Sprintf(format, args...))
	}
}

// Last returns the highest event id received.
func (s *Subscriber) Last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// receive records one event id.
func (s *Subscriber) receive(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, id)
	s.last = max(s.last, id)
}

// opened records a stream that started, and the gap since the previous one ended.
func (s *Subscriber) opened(ended time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams++
	if !ended.IsZero() {
		s.gaps = append(s.gaps, time.Since(ended))
	}
}

// ended records how a stream the server ended did: clean, else why.
func (s *Subscriber) ended(clean bool, why string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code >= 0 {
		s.closeCodes[code]++
	}
	if clean {
		s.cleanEnds++
		return
	}
	s.abruptEnds++
	s.abruptWhy[why]++
}

func (s *Subscriber) connectFailed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connectErrs++
}

// Follow follows the stream of resource (its plural: notes) at base (http://host:port) until
// ctx ends.
func (s *Subscriber) Follow(ctx context.Context, client *http.Client, base, plural string) {
	if s.Kind == WebSocket {
		s.followWebSocket(ctx, client, base+"/api/v1/"+plural+"/events/ws")
		return
	}
	s.followSSE(ctx, client, base+"/api/v1/"+plural+"/events")
}

func (s *Subscriber) followSSE(ctx context.Context, client *http.Client, url string) {
	retry := defaultStreamRetry
	var endedAt time.Time
	first := true
	for ctx.Err() == nil {
		target := url
		if first {
			target += "?after=0"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			s.problem("request: %v", err)
			return
		}
		if !first {
			req.Header.Set("Last-Event-ID", strconv.FormatUint(s.Last(), 10))
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.connectFailed()
			sleep(ctx, retry)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			s.problem("GET %s = %d", target, resp.StatusCode)
			_ = resp.Body.Close()
			s.connectFailed()
			sleep(ctx, retry)
			continue
		}
		first = false
		s.opened(endedAt)
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
				s.receive(id)
			}
		}
		err = sc.Err()
		_ = resp.Body.Close()
		if ctx.Err() != nil {
			return
		}
		endedAt = time.Now()
		switch {
		case err == nil && lastField == "retry":
			s.ended(true, "", -1)
		case err != nil:
			s.ended(false, "read error "+Classify(err)+": "+err.Error(), -1)
		default:
			s.ended(false, "last field "+lastField, -1)
		}
		sleep(ctx, retry)
	}
}

// wsEvent is the part of a websocket message the subscriber reads.
type wsEvent struct {
	ID     uint64 `json:"id"`
	Action string `json:"action"`
}

func (s *Subscriber) followWebSocket(ctx context.Context, client *http.Client, url string) {
	var endedAt time.Time
	for ctx.Err() == nil {
		target := url + "?after=" + strconv.FormatUint(s.Last(), 10)
		conn, resp, err := websocket.Dial(ctx, target, &websocket.DialOptions{HTTPClient: client})
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.connectFailed()
			sleep(ctx, defaultStreamRetry)
			continue
		}
		s.opened(endedAt)
		conn.SetReadLimit(1 << 20)
		for {
			var ev wsEvent
			err = wsjson.Read(ctx, conn, &ev)
			if err != nil {
				break
			}
			if ev.ID == 0 || ev.Action == "" {
				s.problem("message without an id or an action: %+v", ev)
				continue
			}
			s.receive(ev.ID)
		}
		_ = conn.CloseNow()
		if ctx.Err() != nil {
			return
		}
		endedAt = time.Now()
		code := int(websocket.CloseStatus(err))
		switch {
		case code == int(websocket.StatusServiceRestart):
			s.ended(true, "", code)
		case code >= 0:
			s.ended(false, fmt.Sprintf("close status %d", code), code)
		default:
			s.ended(false, "read error "+Classify(err)+": "+err.Error(), code)
		}
		sleep(ctx, defaultStreamRetry)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// ReadEvents reads the ids of every event of resource (its plural) from a fresh SSE stream
// at base, until it has want of them or nothing came for quiet (a stream replays what the
// outbox holds at once, 500 events per read).
func ReadEvents(ctx context.Context, base, plural string, want int, quiet time.Duration) ([]uint64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/"+plural+"/events?after=0", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read the events: GET %s = %d", req.URL, resp.StatusCode)
	}
	lines := scanLines(ctx, resp.Body)
	var ids []uint64
	for len(ids) < want {
		select {
		case line, ok := <-lines:
			if !ok {
				return ids, errors.New("read the events: the stream ended")
			}
			if v, found := strings.CutPrefix(line, "id: "); found {
				id, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return ids, fmt.Errorf("read the events: id %q: %w", v, err)
				}
				ids = append(ids, id)
			}
		case <-time.After(quiet):
			return ids, nil
		}
	}
	return ids, nil
}

// scanLines sends the lines of r until it ends or ctx does, then closes the channel.
func scanLines(ctx context.Context, r io.Reader) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

// Delivery compares what a subscriber received with the events of the outbox.
type Delivery struct {
	// Delivered counts the events of want received (each once); Missing those never received.
	Delivered, Missing int
	// Duplicates counts receptions of an id received before; OutOfOrder receptions of a new
	// id lower than one received before it.
	Duplicates, OutOfOrder int
	// Unknown counts receptions of an id that is not in want.
	Unknown int
}

// Exact is true when every event was received once, in order.
func (d Delivery) Exact() bool {
	return d.Missing == 0 && d.Duplicates == 0 && d.OutOfOrder == 0 && d.Unknown == 0
}

// Add sums two deliveries.
func (d Delivery) Add(o Delivery) Delivery {
	return Delivery{
		Delivered: d.Delivered + o.Delivered, Missing: d.Missing + o.Missing,
		Duplicates: d.Duplicates + o.Duplicates, OutOfOrder: d.OutOfOrder + o.OutOfOrder,
		Unknown: d.Unknown + o.Unknown,
	}
}

// Compare returns the delivery of received (in the order received) against want (the
// outbox's ids, ascending).
func Compare(received, want []uint64) Delivery {
	var d Delivery
	inWant := make(map[uint64]bool, len(want))
	for _, id := range want {
		inWant[id] = true
	}
	seen := make(map[uint64]bool, len(received))
	var highest uint64
	for _, id := range received {
		switch {
		case seen[id]:
			d.Duplicates++
			continue
		case !inWant[id]:
			d.Unknown++
		case id < highest:
			d.OutOfOrder++
			d.Delivered++
		default:
			d.Delivered++
		}
		seen[id] = true
		highest = max(highest, id)
	}
	d.Missing = len(want) - d.Delivered
	return d
}

// StreamFigures sum up the subscribers of one kind.
type StreamFigures struct {
	Kind        string
	Subscribers int
	// Exact counts the subscribers that received every event once, in order.
	Exact int
	Delivery
	// Streams opened; CleanEnds ended by the server as it should on a drain (SSE: retry:
	// last; websocket: close status 1012); AbruptEnds otherwise, AbruptWhy says how.
	Streams, CleanEnds, AbruptEnds int
	AbruptWhy                      map[string]int
	// CloseCodes counts the websockets' close statuses.
	CloseCodes map[int]int
	// ConnectErrs counts failed (re)connections; Gaps the time from each stream's end to the
	// next stream's start, the failed attempts between included.
	ConnectErrs int
	Gaps        []time.Duration
	// Problems are the first of each subscriber's protocol problems.
	Problems []string
}

// Reconnects is the number of streams that followed an earlier one.
func (f StreamFigures) Reconnects() int { return len(f.Gaps) }

// Subscribers is a group of subscribers of one resource.
type Subscribers struct {
	subs   []*Subscriber
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartSubscribers starts sse SSE and ws websocket subscribers of resource (its plural) at
// base.
func StartSubscribers(ctx context.Context, base, plural string, sse, ws int) *Subscribers {
	ctx, cancel := context.WithCancel(ctx)
	g := &Subscribers{cancel: cancel}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: sse + ws}}
	for range sse + ws {
		// Interleaved, so that any share of the subscribers mixes both kinds.
		kind := SSE
		if ws > 0 && (sse == 0 || len(g.subs)%2 == 1) {
			kind = WebSocket
			ws--
		} else {
			sse--
		}
		s := NewSubscriber(kind)
		g.subs = append(g.subs, s)
		g.wg.Go(func() { s.Follow(ctx, client, base, plural) })
	}
	return g
}

// following is true when the subscriber has opened n streams or more and one of them is
// open.
func (s *Subscriber) following(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams >= n && s.streams > s.cleanEnds+s.abruptEnds
}

// Following waits until every subscriber has opened n streams or more and has one open, or
// timeout; it returns how many had not.
func (g *Subscribers) Following(ctx context.Context, n int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	late := 0
	for _, s := range g.subs {
		for !s.following(n) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		if !s.following(n) {
			late++
		}
	}
	return late
}

// CatchUp waits until every subscriber received last, or timeout.
func (g *Subscribers) CatchUp(last uint64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, s := range g.subs {
		for s.Last() < last && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Stop stops the subscribers and waits for them.
func (g *Subscribers) Stop() {
	g.cancel()
	g.wg.Wait()
}

// Figures sums up the subscribers (stopped) per kind against want, in StreamKinds' order,
// kinds without subscribers left out.
func (g *Subscribers) Figures(want []uint64) []StreamFigures {
	var out []StreamFigures
	for _, kind := range StreamKinds() {
		f := StreamFigures{Kind: kind, AbruptWhy: map[string]int{}, CloseCodes: map[int]int{}}
		for i, s := range g.subs {
			if s.Kind != kind {
				continue
			}
			s.mu.Lock()
			f.Subscribers++
			d := Compare(s.ids, want)
			if d.Exact() {
				f.Exact++
			}
			f.Delivery = f.Delivery.Add(d)
			f.Streams += s.streams
			f.CleanEnds += s.cleanEnds
			f.AbruptEnds += s.abruptEnds
			for k, v := range s.abruptWhy {
				f.AbruptWhy[k] += v
			}
			for k, v := range s.closeCodes {
				f.CloseCodes[k] += v
			}
			f.ConnectErrs += s.connectErrs
			f.Gaps = append(f.Gaps, s.gaps...)
			for _, p := range s.problems {
				f.Problems = append(f.Problems, fmt.Sprintf("subscriber %d (%s): %s", i, kind, p))
			}
			s.mu.Unlock()
		}
		if f.Subscribers > 0 {
			slices.Sort(f.Gaps)
			out = append(out, f)
		}
	}
	return out
}

// Writer creates a record every interval until stopped.
type Writer struct {
	cancel          context.CancelFunc
	wg              sync.WaitGroup
	created, failed int
	byError         map[string]int
}

// StartWriter POSTs body(n) to base+path every interval; a 201 counts as created.
func StartWriter(ctx context.Context, base, path string, every time.Duration, body func(n int) string) *Writer {
	ctx, cancel := context.WithCancel(ctx)
	w := &Writer{cancel: cancel, byError: map[string]int{}}
	w.wg.Go(func() {
		client := &http.Client{Timeout: 10 * time.Second}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			resp, err := client.Post(base+path, "application/json", strings.NewReader(body(n)))
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				w.failed++
				w.byError[Classify(err)]++
				continue
			}
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				w.created++
			} else {
				w.failed++
				w.byError["status "+strconv.Itoa(resp.StatusCode)]++
			}
		}
	})
	return w
}

// Stop stops the writer and returns what it created and what failed, by error.
func (w *Writer) Stop() (created, failed int, byError map[string]int) {
	w.cancel()
	w.wg.Wait()
	return w.created, w.failed, w.byError
}

// StreamRunConfig is a run of RunStreams.
type StreamRunConfig struct {
	// Plural is the resource added with --events (notes); PostBody the JSON of its n-th
	// record, which the writer creates every WriteEvery.
	Plural     string
	PostBody   func(n int) string
	WriteEvery time.Duration
	// SSE and WebSockets are the subscribers of each kind.
	SSE, WebSockets int
	// Restarts are the SIGHUPs, each once the previous old generation is gone, Pause has
	// passed and every subscriber follows the new generation (reconnected after the previous
	// restart), so that each restart has each subscriber's stream to end.
	Restarts int
	Pause    time.Duration
	// ShutdownTimeout is the server's: an old generation still running that long after the
	// new one served waited it out.
	ShutdownTimeout time.Duration
	// Logf, if set, gets a line per restart.
	Logf func(format string, args ...any)
}

// StreamRun is what RunStreams measured.
type StreamRun struct {
	Restarts int
	// Created and WriteErrs count the writer's POSTs (WriteByError the failures by kind);
	// Events the outbox's events at the end.
	Created, WriteErrs int
	WriteByError       map[string]int
	Events             int
	// Drains are, per restart, the time from the new generation serving to the old one gone;
	// SlowDrains the restarts whose old generation was still there after ShutdownTimeout.
	Drains     []time.Duration
	SlowDrains int
	// Late lists the restarts before which some subscriber had not reconnected to the
	// generation that served (within 10s), and how many.
	Late []string
	// Kinds are the subscribers' figures, per kind.
	Kinds []StreamFigures
}

// RunStreams follows the events of srv's resource with cfg's subscribers while a writer
// creates records and srv restarts cfg.Restarts times (SIGHUP), then reads the outbox, lets
// every subscriber catch up (20s at most) and sums up. An error means the run could not be
// made (a restart that never served, the outbox unreadable); what it measured is returned
// with it.
func RunStreams(ctx context.Context, srv *Server, cfg StreamRunConfig) (StreamRun, error) {
	if cfg.Pause == 0 {
		cfg.Pause = 500 * time.Millisecond
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	run := StreamRun{}
	subs := StartSubscribers(ctx, srv.BaseURL, cfg.Plural, cfg.SSE, cfg.WebSockets)
	defer subs.Stop()
	writer := StartWriter(ctx, srv.BaseURL, "/api/v1/"+cfg.Plural, cfg.WriteEvery, cfg.PostBody)
	stopWriter := func() {
		if writer != nil {
			run.Created, run.WriteErrs, run.WriteByError = writer.Stop()
			writer = nil
		}
	}
	defer stopWriter()

	sleep(ctx, time.Second)
	for i := range cfg.Restarts {
		// Each subscriber follows this generation before it restarts: a subscriber still
		// reconnecting would have no stream for this restart to end, and a loaded machine
		// (slow reconnects) would then read as streams the drain did not end.
		if late := subs.Following(ctx, i+1, 10*time.Second); late > 0 {
			run.Late = append(run.Late, fmt.Sprintf("restart %d: %d subscribers without a stream open 10s after the previous restart", i+1, late))
		}
		before, err := srv.Health(ctx)
		if err != nil {
			return run, fmt.Errorf("restart %d: %w", i+1, err)
		}
		sent := time.Now()
		if err := srv.Signal(syscall.SIGHUP); err != nil {
			return run, fmt.Errorf("restart %d: SIGHUP: %w", i+1, err)
		}
		if _, err := srv.WaitFor(ctx, 30*time.Second, func(h Health) bool { return h.PID != before.PID }); err != nil {
			return run, fmt.Errorf("restart %d: no new generation serves: %w", i+1, err)
		}
		served := time.Now()
		// The old generation ends its streams and goes; ShutdownTimeout is the bound it must
		// not reach.
		if err := WaitGone(before.PID, cfg.ShutdownTimeout); err != nil {
			run.SlowDrains++
			if err := WaitGone(before.PID, 30*time.Second); err != nil {
				return run, fmt.Errorf("restart %d: the old generation (pid %d) still runs %s after the new one served", i+1, before.PID, cfg.ShutdownTimeout+30*time.Second)
			}
		}
		run.Restarts++
		run.Drains = append(run.Drains, time.Since(served))
		logf("restart %d: new generation after %s, old one gone %s later", i+1, served.Sub(sent).Round(time.Millisecond), run.Drains[len(run.Drains)-1].Round(time.Millisecond))
		sleep(ctx, cfg.Pause)
	}
	sleep(ctx, cfg.Pause)
	stopWriter()

	want, err := ReadEvents(ctx, srv.BaseURL, cfg.Plural, run.Created+run.WriteErrs, 3*time.Second)
	run.Events = len(want)
	if err != nil {
		return run, err
	}
	if len(want) < run.Created {
		return run, fmt.Errorf("the outbox holds %d events, the writer created %d records", len(want), run.Created)
	}
	if len(want) > 0 {
		subs.CatchUp(want[len(want)-1], 20*time.Second)
	}
	subs.Stop()
	run.Kinds = subs.Figures(want)
	slices.Sort(run.Drains)
	return run, nil
}
