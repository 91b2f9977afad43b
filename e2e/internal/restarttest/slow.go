package restarttest

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// SlowConfig describes a request kept in flight across a restart: a POST whose body is
// trickled for longer than the restart takes.
type SlowConfig struct {
	// Addr is the server's host:port.
	Addr string
	// Path, Body and Status: the POST sent and the status it must get, e.g. /api/v1/articles,
	// {"title":"x","body":"y"}, 201.
	Path   string
	Body   []byte
	Status int
	// Trickle is how long the body takes to send, in up to ten pieces.
	Trickle time.Duration
	// Timeout bounds the whole exchange (default Trickle + 30s).
	Timeout time.Duration
	// TLS, when set, speaks HTTPS (HTTP/1.1) with this client configuration.
	TLS *tls.Config
}

// SlowResult is what one slow request did.
type SlowResult struct {
	// PID is the process that served the connection, asked over it before the POST.
	PID      int
	Status   int
	Err      string // empty when the POST got Status
	Start    time.Time
	Finished time.Time
}

// SlowRequest is a POST in flight with its body still trickling.
type SlowRequest struct {
	cfg  SlowConfig
	conn net.Conn
	br   *bufio.Reader
	res  SlowResult
	done chan struct{}
}

// StartSlow opens a connection, asks GET /healthz over it which process serves it, then sends
// the POST's header with "Expect: 100-continue" and returns once the server answered
// "100 Continue": the handler is reading the body, so the request is in flight in that
// process and no drain may treat the connection as idle. The body then trickles in the
// background; Wait returns the outcome.
func StartSlow(ctx context.Context, cfg SlowConfig) (*SlowRequest, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = cfg.Trickle + 30*time.Second
	}
	r := &SlowRequest{cfg: cfg, done: make(chan struct{}), res: SlowResult{Start: time.Now()}}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("slow request: %w", err)
	}
	_ = conn.SetDeadline(r.res.Start.Add(cfg.Timeout))
	if cfg.TLS != nil {
		c := cfg.TLS.Clone()
		c.NextProtos = []string{"http/1.1"}
		if c.ServerName == "" {
			c.ServerName, _, _ = net.SplitHostPort(cfg.Addr) // as http.Transport does
		}
		tc := tls.Client(conn, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("slow request: TLS handshake: %w", err)
		}
		conn = tc
	}
	r.conn, r.br = conn, bufio.NewReader(conn)
	if err := r.begin(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("slow request: %w", err)
	}
	go r.finish()
	return r, nil
}

// begin identifies the serving process and sends the POST's header.
func (r *SlowRequest) begin() error {
	get, _ := http.NewRequest(http.MethodGet, "http://"+r.cfg.Addr+"/healthz", nil)
	if err := get.Write(r.conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(r.br, get)
	if err != nil {
		return err
	}
	var h Health
	err = json.NewDecoder(resp.Body).Decode(&h)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		return fmt.Errorf("GET /healthz: status %d, connection closing %t", resp.StatusCode, resp.Close)
	}
	if err != nil {
		return fmt.Errorf("GET /healthz: %w", err)
	}
	r.res.PID = h.PID
	header := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", r.cfg.Path, r.cfg.Addr, len(r.cfg.Body))
	if _, err := io.WriteString(r.conn, header); err != nil {
		return err
	}
	line, err := r.br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("waiting for 100 Continue: %w", err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		return fmt.Errorf("waiting for 100 Continue: got %q", strings.TrimSpace(line))
	}
	if blank, err := r.br.ReadString('\n'); err != nil {
		return fmt.Errorf("waiting for 100 Continue: %w", err)
	} else if blank != "\r\n" {
		return fmt.Errorf("waiting for 100 Continue: unexpected header %q", blank)
	}
	return nil
}

// finish trickles the body and reads the answer.
func (r *SlowRequest) finish() {
	defer close(r.done)
	defer r.conn.Close()
	defer func() { r.res.Finished = time.Now() }()
	body := r.cfg.Body
	pieces := min(10, len(body))
	step := r.cfg.Trickle / time.Duration(max(pieces, 1))
	for i := range pieces {
		time.Sleep(step)
		from, to := i*len(body)/pieces, (i+1)*len(body)/pieces
		if _, err := r.conn.Write(body[from:to]); err != nil {
			r.res.Err = "write body: " + Classify(err)
			return
		}
	}
	post, _ := http.NewRequest(http.MethodPost, "http://"+r.cfg.Addr+r.cfg.Path, nil)
	resp, err := http.ReadResponse(r.br, post)
	if err != nil {
		r.res.Err = Classify(err)
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.res.Status = resp.StatusCode
	switch {
	case err != nil:
		r.res.Err = Classify(err)
	case resp.StatusCode != r.cfg.Status:
		r.res.Err = fmt.Sprintf("status %d", resp.StatusCode)
	}
}

// Wait returns the outcome once the answer has arrived or the exchange failed.
func (r *SlowRequest) Wait() SlowResult {
	<-r.done
	return r.res
}
