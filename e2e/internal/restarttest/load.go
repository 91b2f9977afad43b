package restarttest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LoadConfig describes the traffic a Load sends.
type LoadConfig struct {
	// BaseURL is the server's root, e.g. http://127.0.0.1:8000.
	BaseURL string
	// KeepAlive clients reuse connections; Fresh clients open a new connection per request.
	KeepAlive, Fresh int
	// Timeout bounds each request.
	Timeout time.Duration
	// Pause is the wait between two requests of one client (0: back to back).
	Pause time.Duration
	// ErrorPause is the wait after a failed request (default 10ms): a client that failed
	// backs off instead of spinning, so the count of failures measures time without service
	// rather than how fast a refused connect returns.
	ErrorPause time.Duration
	// PostPath, when set, makes every PostEvery-th request (default 2) of each client a POST
	// of PostBody to this path, expecting PostStatus; GETs go to /healthz.
	PostPath   string
	PostBody   []byte
	PostStatus int
	PostEvery  int
	// TLS, when set, is the clients' TLS configuration for an https BaseURL (the server's
	// CA in RootCAs). HTTP2 of the kept-alive clients then speak HTTP/2 (one connection,
	// many streams each), the others HTTP/1.1; fresh clients speak HTTP/1.1.
	TLS   *tls.Config
	HTTP2 int
}

// Result is what one request did.
type Result struct {
	Start    time.Time
	Latency  time.Duration
	Err      string // empty when the request succeeded
	PID      int    // pid that answered /healthz, 0 otherwise
	Version  string
	KeepConn bool
	Post     bool
	HTTP2    bool // answered over HTTP/2
}

// End is when the request finished.
func (r Result) End() time.Time { return r.Start.Add(r.Latency) }

// Load sends requests from many clients until stopped.
type Load struct {
	cfg    LoadConfig
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// results has one slice per client, appended to by that client only (no lock shared by
	// the clients, whose waits would show up as server latency), read once they are stopped.
	results [][]Result
}

// StartLoad starts the clients. Stop them with Stop.
func StartLoad(ctx context.Context, cfg LoadConfig) *Load {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ErrorPause == 0 {
		cfg.ErrorPause = 10 * time.Millisecond
	}
	if cfg.PostEvery == 0 {
		cfg.PostEvery = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Load{cfg: cfg, cancel: cancel, results: make([][]Result, cfg.KeepAlive+cfg.Fresh)}
	keep := &http.Transport{MaxIdleConnsPerHost: cfg.KeepAlive + 1, DisableCompression: true, TLSClientConfig: cfg.TLS.Clone()}
	fresh := &http.Transport{DisableKeepAlives: true, DisableCompression: true, TLSClientConfig: cfg.TLS.Clone()}
	for i := range cfg.KeepAlive + cfg.Fresh {
		tr := keep
		switch {
		case i >= cfg.KeepAlive:
			tr = fresh
		case i < cfg.HTTP2 && cfg.TLS != nil:
			// A transport per HTTP/2 client: each has its own connection, as separate
			// clients would, instead of all sharing one. Each its own copy of the TLS
			// configuration, too: enabling HTTP/2 adds "h2" to the configuration's
			// NextProtos, which must not reach the HTTP/1.1 clients.
			tr = &http.Transport{DisableCompression: true, TLSClientConfig: cfg.TLS.Clone(), ForceAttemptHTTP2: true}
		}
		client := &http.Client{Transport: tr, Timeout: cfg.Timeout}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.client(ctx, client, i, i < cfg.KeepAlive)
		}()
	}
	return l
}

func (l *Load) client(ctx context.Context, client *http.Client, id int, keep bool) {
	for n := 0; ctx.Err() == nil; n++ {
		post := l.cfg.PostPath != "" && (n+id)%l.cfg.PostEvery == 0
		r := l.once(ctx, client, post)
		if ctx.Err() != nil && r.Err != "" {
			return // the load was stopped mid-request: not the server's failure
		}
		r.KeepConn, r.Post = keep, post
		l.results[id] = append(l.results[id], r)
		pause := l.cfg.Pause
		if r.Err != "" {
			pause = max(pause, l.cfg.ErrorPause)
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
}

func (l *Load) once(ctx context.Context, client *http.Client, post bool) Result {
	var req *http.Request
	var err error
	want := http.StatusOK
	if post {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, l.cfg.BaseURL+l.cfg.PostPath, bytes.NewReader(l.cfg.PostBody))
		want = l.cfg.PostStatus
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, l.cfg.BaseURL+"/healthz", nil)
	}
	r := Result{Start: time.Now()}
	if err != nil {
		r.Err = err.Error()
		return r
	}
	if post {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		r.Latency = time.Since(r.Start)
		r.Err = Classify(err)
		return r
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.Latency = time.Since(r.Start)
	r.HTTP2 = resp.ProtoMajor == 2
	switch {
	case err != nil:
		r.Err = Classify(err)
	case resp.StatusCode != want:
		r.Err = fmt.Sprintf("status %d", resp.StatusCode)
	case !post:
		var h Health
		if err := json.Unmarshal(body, &h); err != nil {
			r.Err = "bad body: " + err.Error()
		}
		r.PID, r.Version = h.PID, h.Version
	}
	return r
}

// Stop ends the clients and returns every request's result, in start order.
func (l *Load) Stop() []Result {
	l.cancel()
	l.wg.Wait()
	out := slices.Concat(l.results...)
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Health is the body of GET /healthz.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
	PID     int    `json:"pid"`
}

// Classify names the kind of a failed request: refused, reset, eof, timeout or other.
func Classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "client: no free local port" // the load generator's own limit, not the server's
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other: " + err.Error()
}

// Summary counts results.
type Summary struct {
	Sent, Failed int
	ByError      map[string]int
	PIDs         map[int]int
	Versions     map[string]int
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	s := Summary{ByError: map[string]int{}, PIDs: map[int]int{}, Versions: map[string]int{}}
	for _, r := range results {
		s.Sent++
		if r.Err != "" {
			s.Failed++
			s.ByError[r.Err]++
			continue
		}
		if r.PID != 0 {
			s.PIDs[r.PID]++
			s.Versions[r.Version]++
		}
	}
	return s
}

func (s Summary) String() string {
	var errs []string
	for k, v := range s.ByError {
		errs = append(errs, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(errs)
	return fmt.Sprintf("sent=%d failed=%d errors=[%s] pids=%d versions=%v", s.Sent, s.Failed, strings.Join(errs, " "), len(s.PIDs), s.Versions)
}
