package restart

import (
	"context"
	"net/http"
	"sync"
)

// Stream registers a long-lived response with the generation serving r: a stream of
// server-sent events, a websocket, any response that does not end by itself. The
// generation's drain (a restart, once the new generation serves, or a shutdown) closes done
// as it starts; the handler then ends its stream the way its protocol tells a client to come
// back (server-sent events: a last "retry:" field, then return; a websocket: a close frame
// with status 1012, service restart) and calls end. The drain waits for the end of every
// registered stream, bounded by Options.ShutdownTimeout, before it shuts the server down:
// http.Server.Shutdown alone neither tells a stream to end nor waits for a hijacked
// (websocket) connection. A stream registered once the drain has started gets a done that is
// already closed.
//
// end is safe to call more than once; call it when the handler returns (defer end()). For a
// request not served by Run (an httptest server, a test calling the handler), done is the
// request context's Done and end does nothing.
func Stream(r *http.Request) (done <-chan struct{}, end func()) {
	st, ok := r.Context().Value(streamsKey{}).(*streams)
	if !ok {
		return r.Context().Done(), func() {}
	}
	done, endStream := st.add()
	tc := connOf(r)
	if tc == nil {
		return done, endStream
	}
	// Its connection is never shed at the connection cap while the stream runs.
	tc.streams.Add(1)
	var once sync.Once
	return done, func() {
		once.Do(func() { tc.streams.Add(-1) })
		endStream()
	}
}

// streamsKey is the context key of a generation's streams, set on every connection's base
// context (http.Server.BaseContext), so looking it up costs a request nothing.
type streamsKey struct{}

// streams counts the live streams of one generation and tells them when it drains.
type streams struct {
	mu       sync.Mutex
	n        int
	draining bool
	done     chan struct{} // closed when the drain starts
	idle     chan struct{} // closed once draining with no stream left
}

func newStreams() *streams {
	return &streams{done: make(chan struct{}), idle: make(chan struct{})}
}

// base is the http.Server.BaseContext that carries st to every request.
func (st *streams) base(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamsKey{}, st)
}

func (st *streams) add() (<-chan struct{}, func()) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.draining && st.n == 0 {
		// The drain has seen the last stream end (idle is closed): a stream that starts now,
		// e.g. a client reconnecting on a kept-alive connection, is told to end at once and
		// is not waited for. Counting it would close idle a second time when it ends.
		return st.done, func() {}
	}
	st.n++
	var once sync.Once
	return st.done, func() {
		once.Do(func() {
			st.mu.Lock()
			defer st.mu.Unlock()
			st.n--
			if st.draining && st.n == 0 {
				close(st.idle)
			}
		})
	}
}

// drain tells every stream to end and returns a channel closed once none is left.
func (st *streams) drain() <-chan struct{} {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.draining {
		st.draining = true
		close(st.done)
		if st.n == 0 {
			close(st.idle)
		}
	}
	return st.idle
}

// live is how many streams are registered and not ended.
func (st *streams) live() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.n
}
