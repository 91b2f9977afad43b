package restart

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Shedding connections at the cap (Options.MaxConns).
//
// A listener that stops accepting at its cap (netutil.LimitListener) leaves every new
// connection in the kernel's accept queue behind whatever fills the cap: 1,100 clients that
// trickle request bodies or headers under `ulimit -n 1024` kept a health check waiting for
// seconds, and a load balancer then took the process for dead. So the listener keeps
// accepting at the cap and makes room by shedding a connection that is doing nothing for the
// server: it evicts the one that has waited longest of
//
//  1. connections that have waited at least slowBodyWait for a request's headers, new or kept
//     alive between requests (http.StateNew, http.StateIdle): closed at once (a younger
//     one is a client about to send its request, e.g. a health check);
//  2. then HTTP/1 connections whose handler, running for at least slowBodyWait, is blocked
//     reading the request body, the slowest body first (fewest bytes a second since the
//     request started): their read deadline is moved to the past (so the handler's read
//     most likely fails as a timeout, which a generated project logs as 408) and the
//     connection is closed at once: its descriptor is what the new connection needs.
//
// A connection whose handler is running (not waiting for its body), an HTTP/2 connection
// with streams open, a connection serving a registered Stream and a hijacked one (a
// websocket) are never evicted. When nothing can be evicted the listener waits, as
// LimitListener does, until a connection closes or becomes evictable; the connection it
// accepted meanwhile waits with it, so the overshoot is one descriptor per listener. The
// state comes from http.Server.ConnState and from the server's handler, which records when
// a handler waits for its body and how much of it came; eviction starts only when a
// connection is accepted at the cap, so a drain (which closes the listeners first) never
// evicts anything.

const (
	// slowBodyWait is how long a connection must have waited for its request's headers, or
	// a request must have run while its handler waits for the body, before its connection
	// may be evicted: a client sending at the speed of its link is usually done by then.
	slowBodyWait = 100 * time.Millisecond
	// maxEvicting bounds the connections evicted and not yet closed, each still holding its
	// descriptor (evict closes them at once: a bound against a close that blocks).
	maxEvicting = 32
)

// shedListener is a listener that serves at most max connections at once, shedding the
// idlest one for a new one at the cap (see above).
type shedListener struct {
	net.Listener
	max int

	mu       sync.Mutex
	conns    map[*trackedConn]struct{} // accepted and not closed
	evicting int                       // conns evicted and not yet closed

	changed chan struct{} // poked when a connection closes or may have become evictable
	closed  chan struct{} // closed by Close
	once    sync.Once
}

func newShedListener(ln net.Listener, maxConns int) *shedListener {
	return &shedListener{
		Listener: ln,
		max:      maxConns,
		// Not presized to maxConns: the automatic cap is near the open-file limit (tens of
		// thousands), a map that size costs every generation's start-up ~0.5 MB and ~2 ms,
		// and most services never hold more than a few hundred connections.
		conns:   map[*trackedConn]struct{}{},
		changed: make(chan struct{}, 1),
		closed:  make(chan struct{}),
	}
}

// Accept accepts the next connection and, at the cap, makes room for it.
func (l *shedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	tc.state, tc.since = http.StateNew, time.Now()
	if err := l.admit(tc); err != nil {
		_ = c.Close() // refused: nobody saw it
		return nil, err
	}
	return tc, nil
}

// Close closes the listener and ends an Accept waiting for room.
func (l *shedListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// admit counts tc among the served connections once there is room, evicting one if need be.
func (l *shedListener) admit(tc *trackedConn) error {
	for {
		l.mu.Lock()
		if len(l.conns)-l.evicting < l.max {
			l.conns[tc] = struct{}{}
			l.mu.Unlock()
			return nil
		}
		victim, slow := l.victim()
		if victim != nil {
			victim.evicted.Store(true)
			l.evicting++
		}
		l.mu.Unlock()
		if victim != nil {
			victim.evict(slow)
			continue
		}
		select {
		case <-l.closed:
			return net.ErrClosed
		case <-l.changed:
		case <-time.After(slowBodyWait):
			// A handler blocked on its body becomes evictable without any event.
		}
	}
}

// victim is the connection to evict, and whether it is a slow body; nil when none may be.
// Called with l.mu held.
func (l *shedListener) victim() (*trackedConn, bool) {
	now := time.Now()
	var idle, slow *trackedConn
	var idleSince time.Time
	var slowRate float64 // bytes a second
	for c := range l.conns {
		if c.evicted.Load() {
			continue
		}
		switch c.state {
		case http.StateNew, http.StateIdle:
			// A connection just accepted (or just done with a response) is about to send its
			// request: a health check's headers come at once.
			if now.Sub(c.since) < slowBodyWait {
				continue
			}
			if idle == nil || c.since.Before(idleSince) {
				idle, idleSince = c, c.since
			}
		case http.StateActive:
			if l.evicting >= maxEvicting || c.h2.Load() || c.streams.Load() > 0 {
				continue
			}
			age := now.Sub(time.Unix(0, c.requestStart.Load()))
			if !c.bodyWait.Load() || age < slowBodyWait {
				continue
			}
			rate := float64(c.bodyRead.Load()) / age.Seconds()
			if slow == nil || rate < slowRate {
				slow, slowRate = c, rate
			}
		default:
			// Hijacked: its handler owns it.
		}
	}
	if idle != nil {
		return idle, false
	}
	return slow, slow != nil
}

// poke tells a waiting Accept to look again.
func (l *shedListener) poke() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// trackedConn is a connection accepted by a shedListener.
type trackedConn struct {
	net.Conn
	l *shedListener

	// state and since (when it entered state) are guarded by l.mu.
	state http.ConnState
	since time.Time

	evicted      atomic.Bool
	h2           atomic.Bool  // it serves HTTP/2: its streams are not told apart
	streams      atomic.Int32 // registered Streams running on it
	requestStart atomic.Int64 // Unix nanoseconds when the running handler started
	bodyWait     atomic.Bool  // the handler waits in a read of the request body
	bodyRead     atomic.Int64 // bytes of the request body read so far
	closeOnce    sync.Once
	closeErr     error
}

// evict closes an idle connection, or makes a slow body's read fail (see above).
func (c *trackedConn) evict(slow bool) {
	if !slow {
		_ = c.Close() // the server's reader sees it closed
		return
	}
	// The deadline first, so that the handler's read most likely fails as a timeout (and is
	// logged as one), then the close: the descriptor is needed now, and a handler starved of
	// CPU under a flood would hold it for as long as it takes to answer.
	_ = c.Conn.SetReadDeadline(aLongTimeAgo()) // a closed connection refuses it: then it is gone already
	_ = c.Close()
}

// aLongTimeAgo is a read deadline that has passed.
func aLongTimeAgo() time.Time { return time.Unix(1, 0) }

// SetReadDeadline and SetDeadline keep an evicted connection's read deadline in the past: a
// handler's body reader (BodyDeadline) moves it on each read and would otherwise undo the
// eviction.
func (c *trackedConn) SetReadDeadline(t time.Time) error {
	if c.evicted.Load() {
		t = aLongTimeAgo()
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *trackedConn) SetDeadline(t time.Time) error {
	if c.evicted.Load() {
		return errors.Join(c.Conn.SetReadDeadline(aLongTimeAgo()), c.Conn.SetWriteDeadline(t))
	}
	return c.Conn.SetDeadline(t)
}

// Close closes the connection once and gives its place back.
func (c *trackedConn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.Conn.Close()
		c.l.mu.Lock()
		delete(c.l.conns, c)
		if c.evicted.Load() {
			c.l.evicting--
		}
		c.l.mu.Unlock()
		c.l.poke()
	})
	return c.closeErr
}

// setState records the state http.Server reports.
func (c *trackedConn) setState(state http.ConnState) {
	c.l.mu.Lock()
	c.state, c.since = state, time.Now()
	c.l.mu.Unlock()
	if state == http.StateIdle {
		c.l.poke()
	}
}

// trackedConnOf is the trackedConn under c (c itself, or under a *tls.Conn); nil if none.
func trackedConnOf(c net.Conn) *trackedConn {
	for {
		switch v := c.(type) {
		case *trackedConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
}

// connKey is the context key of a request's trackedConn (http.Server.ConnContext).
type connKey struct{}

// withConn is the http.Server.ConnContext that lets handlers find their trackedConn.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if tc := trackedConnOf(c); tc != nil {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// connOf is the trackedConn serving r; nil when there is no cap.
func connOf(r *http.Request) *trackedConn {
	tc, _ := r.Context().Value(connKey{}).(*trackedConn)
	return tc
}

// trackRequest serves r with h, recording on its connection when the handler waits for the
// request body, so that the connection may be shed at the cap as a slow body (see above).
func trackRequest(h http.Handler, w http.ResponseWriter, r *http.Request) {
	tc := connOf(r)
	if tc == nil {
		h.ServeHTTP(w, r)
		return
	}
	if r.ProtoMajor != 1 {
		tc.h2.Store(true)
		h.ServeHTTP(w, r)
		return
	}
	tc.requestStart.Store(time.Now().UnixNano())
	tc.bodyRead.Store(0)
	if r.Body == nil || r.Body == http.NoBody {
		h.ServeHTTP(w, r)
		return
	}
	// A shallow copy carries the watched body: the server goes on seeing its own body on
	// its request (it decides from its type how to treat what the handler left unread), and
	// gets back a multipart form the handler parsed, to remove its files.
	orig := r
	r = r.WithContext(r.Context())
	r.Body = &watchedBody{ReadCloser: orig.Body, c: tc}
	defer func() {
		if orig.MultipartForm == nil {
			orig.MultipartForm = r.MultipartForm
		}
	}()
	h.ServeHTTP(w, r)
}

// watchedBody records on its connection when a read waits for the client.
type watchedBody struct {
	io.ReadCloser
	c *trackedConn
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.c.bodyWait.Store(true)
	n, err := b.ReadCloser.Read(p)
	b.c.bodyWait.Store(false)
	b.c.bodyRead.Add(int64(n))
	return n, err
}
