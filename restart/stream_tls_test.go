//go:build unix

package restart

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testEvents is a server-sent event stream that registers with Stream: an event every 20ms
// until the generation drains, then a last "retry:" and the end of the response.
func testEvents(w http.ResponseWriter, r *http.Request) {
	done, end := Stream(r)
	defer end()
	w.Header().Set("Content-Type", "text/event-stream")
	rc := http.NewResponseController(w)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		if _, err := fmt.Fprintf(w, "id: %d-%d\ndata: %d\n\n", os.Getpid(), n, n); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-done:
			fmt.Fprint(w, "retry: 50\n\n")
			_ = rc.Flush()
			return
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// testCA issues the test servers' certificates; clients trust it, so a renewed certificate
// (another serial number, another key) is trusted as the first was.
type testCA struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	roots *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1000),
		Subject:               pkix.Name{CommonName: "restart test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &testCA{cert: cert, key: key, roots: roots}
}

// issue writes a certificate for 127.0.0.1 with the given serial number and a new key to
// dir/cert.pem and dir/key.pem, each replaced by a rename as a renewal tool does.
func (ca *testCA) issue(t *testing.T, dir string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "restart test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	writeAtomic(t, filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// tlsTransport is a client transport trusting roots: HTTP/2 when h2, else HTTP/1.1 only.
func tlsTransport(roots *x509.CertPool, h2, keepAlive bool) *http.Transport {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: 16,
	}
	if h2 {
		tr.ForceAttemptHTTP2 = true
	} else {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
	}
	return tr
}

// servedSerial is the serial number of the certificate the server at addr presents.
func servedSerial(t *testing.T, addr string, roots *x509.CertPool) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestStreamEndsAtTheDrainWithoutWaitingOutTheTimeout(t *testing.T) {
	ln := listen(t)
	hijackedEnded := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", testEvents)
	mux.HandleFunc("GET /raw", func(w http.ResponseWriter, r *http.Request) {
		// A hijacked connection, as a websocket library makes: Shutdown does not wait for it.
		done, end := Stream(r)
		defer end()
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nopen\n")
		_ = buf.Flush()
		<-done
		time.Sleep(100 * time.Millisecond) // a closing handshake takes a moment
		fmt.Fprint(buf, "bye\n")
		_ = buf.Flush()
		close(hijackedEnded)
	})
	opts := testOptions()
	opts.ShutdownTimeout = time.Minute
	s := startServer(mux, []net.Listener{ln}, opts)
	base := "http://" + ln.Addr().String()

	sse, err := http.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	raw, err := http.Get(base + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Body.Close()
	sseLines := bufio.NewReader(sse.Body)
	if _, err := sseLines.ReadString('\n'); err != nil {
		t.Fatalf("first event: %v", err)
	}
	for s.streams.live() != 2 {
		time.Sleep(5 * time.Millisecond)
	}

	start := time.Now()
	if err := s.Drain(context.Background(), opts.ShutdownTimeout); err != nil {
		t.Fatalf("drain: %v", err)
	}
	took := time.Since(start)
	select {
	case <-hijackedEnded:
	default:
		t.Error("the drain returned before the hijacked stream ended")
	}
	rest, err := io.ReadAll(sseLines)
	if err != nil {
		t.Fatalf("event stream cut instead of ended: %v", err)
	}
	if !strings.HasSuffix(string(rest), "retry: 50\n\n") {
		t.Errorf("event stream did not end with its retry field: ...%q", tail(string(rest), 60))
	}
	if b, _ := io.ReadAll(raw.Body); !strings.HasSuffix(string(b), "bye\n") {
		t.Errorf("hijacked stream got %q, want it to end with bye", b)
	}
	// A minute is the bound; ending the streams takes a moment, not the bound.
	if took > opts.ShutdownTimeout/2 {
		t.Errorf("drain took %s: it waited out the streams", took)
	}
	if done, _ := Stream(httptestRequestAfterDrain(s)); !isClosed(done) {
		t.Error("a stream registered after the drain started got an open done channel")
	}
}

// httptestRequestAfterDrain is a request whose context carries s's streams, as Serve gives
// one.
func httptestRequestAfterDrain(s *server) *http.Request {
	r, _ := http.NewRequestWithContext(s.streams.base(context.Background()), http.MethodGet, "/", nil)
	return r
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string { return s[max(len(s)-n, 0):] }

func TestStreamOutsideRunFollowsTheRequestContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	done, end := Stream(r)
	end()
	end() // idempotent
	if isClosed(done) {
		t.Fatal("done closed before the request ended")
	}
	cancel()
	if !isClosed(done) {
		t.Fatal("done not closed when the request ended")
	}
}

func TestTLSServesHTTP2AndHTTP1AndAHandOverLosesNoRequest(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	ca.issue(t, dir, 1)
	roots := ca.roots
	opts := testOptions()
	opts.CertFile, opts.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	opts, err := opts.withTLS()
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	// The next generation's copy of the socket, as a hand-over gives it.
	dup, err := dupListener(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer dup.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Proto) })
	old := startServer(mux, []net.Listener{ln}, opts)
	url := "https://" + ln.Addr().String() + "/"

	for _, h2 := range []bool{true, false} {
		resp, err := (&http.Client{Transport: tlsTransport(roots, h2, true)}).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2]; string(body) != want {
			t.Errorf("h2=%v: served over %q, want %q", h2, body, want)
		}
	}

	h1 := startLoadWith(url, 6, func(keepAlive bool) *http.Transport { return tlsTransport(roots, false, keepAlive) })
	h2 := startLoadWith(url, 6, func(keepAlive bool) *http.Transport { return tlsTransport(roots, true, keepAlive) })
	time.Sleep(300 * time.Millisecond)
	nextLn, err := net.FileListener(dup)
	if err != nil {
		t.Fatal(err)
	}
	next := startServer(mux, []net.Listener{nextLn}, opts)
	if err := old.Drain(context.Background(), 5*time.Second); err != nil {
		t.Fatalf("drain: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	r1, r2 := h1(), h2()
	t.Logf("HTTP/1.1: %d ok, %d failed; HTTP/2: %d ok, %d failed", r1.ok, r1.failed, r2.ok, r2.failed)
	assertNoFailures(t, r1)
	assertNoFailures(t, r2)
	if err := next.Drain(context.Background(), 5*time.Second); err != nil {
		t.Fatalf("drain: %v", err)
	}
}

func TestTLSNeedsALoadablePair(t *testing.T) {
	dir := t.TempDir()
	newTestCA(t).issue(t, dir, 1)
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"key missing", "cert.pem", "", "needs both"},
		{"cert missing", "", "key.pem", "needs both"},
		{"unreadable", "nope.pem", "key.pem", "nope.pem"},
		{"swapped", "key.pem", "cert.pem", "load TLS certificate"},
	} {
		o := Options{}
		if tc.cert != "" {
			o.CertFile = filepath.Join(dir, tc.cert)
		}
		if tc.key != "" {
			o.KeyFile = filepath.Join(dir, tc.key)
		}
		if _, err := o.withTLS(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	if o, err := (Options{}).withTLS(); err != nil || o.tls != nil {
		t.Errorf("no files: %v, %v; want plain HTTP", o.tls, err)
	}
}

// TestSupervisorTLSRestartTakesUpRenewedCertificatesAndEndsStreams restarts a TLS master
// under HTTP/1.1 and HTTP/2 load with an event stream open: a renewed certificate is served
// after the restart, a broken one leaves the old worker serving, no request fails, and the
// stream ends cleanly at each restart (its retry field), long before the minute the worker may
// take to drain.
func TestSupervisorTLSRestartTakesUpRenewedCertificatesAndEndsStreams(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	ca.issue(t, dir, 1)
	roots := ca.roots
	t.Setenv(supervisorTestTLSEnv, dir)
	t.Setenv(supervisorTestShutdownEnv, "1m")
	m := startTestMasterTLS(t, roots)
	addr := strings.TrimPrefix(m.base, "https://")
	if got := servedSerial(t, addr, roots); got != 1 {
		t.Fatalf("serving certificate %d, want 1", got)
	}
	h1 := startLoadWith(m.base+"/pid", 4, func(keepAlive bool) *http.Transport { return tlsTransport(roots, false, keepAlive) })
	h2 := startLoadWith(m.base+"/pid", 4, func(keepAlive bool) *http.Transport { return tlsTransport(roots, true, keepAlive) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	events := &http.Client{Transport: tlsTransport(roots, true, true)}
	for serial := int64(2); serial <= 3; serial++ {
		pid := m.mustPID()
		stream, err := events.Get(m.base + "/events")
		if err != nil {
			t.Fatal(err)
		}
		ended := make(chan string, 1)
		go func() {
			b, err := io.ReadAll(stream.Body)
			stream.Body.Close()
			if err != nil {
				ended <- "cut: " + err.Error()
				return
			}
			ended <- string(b)
		}()
		ca.issue(t, dir, serial)
		start := time.Now()
		if err := m.s.restart(ctx); err != nil {
			t.Fatalf("restart onto certificate %d: %v", serial, err)
		}
		select {
		case got := <-ended:
			if !strings.HasSuffix(got, "\n\nretry: 50\n\n") {
				t.Errorf("event stream ended with %q, want its retry field", tail(got, 40))
			}
		case <-time.After(20 * time.Second):
			t.Fatal("event stream still open 20s after the restart")
		}
		waitGone(t, pid, 20*time.Second)
		t.Logf("restart onto certificate %d: old worker gone %s after the restart began", serial, time.Since(start).Round(time.Millisecond))
		if got := servedSerial(t, addr, roots); got != serial {
			t.Errorf("after the restart: serving certificate %d, want the renewed %d", got, serial)
		}
	}

	// A renewal that left a broken pair: the restart fails and the old worker serves on.
	pid := m.mustPID()
	writeAtomic(t, filepath.Join(dir, "cert.pem"), []byte("not a certificate"))
	if err := m.s.restart(ctx); err == nil || !strings.Contains(err.Error(), "load TLS certificate") {
		t.Fatalf("restart onto a broken certificate: %v, want it to fail naming the certificate", err)
	}
	if got := m.mustPID(); got != pid {
		t.Errorf("served by %d after the failed restart, want %d", got, pid)
	}
	r1, r2 := h1(), h2()
	t.Logf("HTTP/1.1: %d ok; HTTP/2: %d ok", r1.ok, r2.ok)
	assertNoFailures(t, r1)
	assertNoFailures(t, r2)
}
