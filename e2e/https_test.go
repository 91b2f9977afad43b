package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// TestSIGHUPOverHTTPSLosesNoRequestAndTakesUpTheRenewedCertificate is issue 20's HTTPS through
// restarts, in every strategy: the project serves TLS from [server] CertFile and KeyFile (set
// by environment, as a deploy would), under load from HTTP/1.1 clients (kept-alive and one
// connection per request) and HTTP/2 clients (many streams on one connection each), with
// slow POSTs in flight over TLS across each restart. The certificate is renewed on disk (new
// key, new serial, same CA, written as a renewal tool does: a new file renamed over the old)
// before two SIGHUPs onto rebuilt binaries. No request may fail, both protocols must be
// served throughout, and afterwards the new generation serves the renewed certificate.
func TestSIGHUPOverHTTPSLosesNoRequestAndTakesUpTheRenewedCertificate(t *testing.T) {
	eachStrategy(t, func(t *testing.T, ctx context.Context, strategy string) {
		dir := t.TempDir()
		ca := newTestCA(t)
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		first := ca.issue(t, certFile, keyFile)
		versions := []string{"v2", "v3"}
		bins, err := fixtures.Versions(ctx, strategy, versions...)
		if err != nil {
			t.Fatal(err)
		}
		client := &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}
		srv := startProject(t, ctx, strategy, func(c *restarttest.ServerConfig) {
			c.Env = append(c.Env, "MYBLOG_SERVER_CERTFILE="+certFile, "MYBLOG_SERVER_KEYFILE="+keyFile)
			c.TLS = client
		})
		addr := srv.BaseURL[len("https://"):]
		if got := servedSerial(t, addr, client); got.Cmp(first) != 0 {
			t.Fatalf("served certificate serial %s, want the first one %s", got, first)
		}
		renewed := ca.issue(t, certFile, keyFile)

		load := testLoad()
		load.HTTP2 = load.KeepAlive / 2
		run, err := restarttest.RunRestarts(ctx, srv, srv.Config().Binary, restarttest.Plan{
			Mode:      restarttest.Reload,
			Binaries:  bins,
			Versions:  versions,
			Steady:    300 * time.Millisecond,
			Load:      load,
			SlowCount: 2,
			Slow:      slowPost(time.Second),
		})
		if err != nil {
			t.Fatal(err)
		}
		checkRun(t, run, len(versions))
		var h1, h2 int
		for _, r := range run.Results {
			switch {
			case r.Err != "":
			case r.HTTP2:
				h2++
			default:
				h1++
			}
		}
		t.Logf("%s: %d HTTP/1.1 and %d HTTP/2 requests answered over TLS", strategy, h1, h2)
		if h1 == 0 || h2 == 0 {
			t.Errorf("answered: %d over HTTP/1.1, %d over HTTP/2; want both protocols served", h1, h2)
		}
		if got := servedSerial(t, addr, client); got.Cmp(renewed) != 0 {
			t.Errorf("after the restarts the served certificate has serial %s, want the renewed one %s (the first was %s)", got, renewed, first)
		}
		checkCleanShutdown(t, srv)
	})
}

// servedSerial is the serial of the certificate the server at addr presents now, on a new
// connection.
func servedSerial(t *testing.T, addr string, client *tls.Config) *big.Int {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: client}
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber
}

// testCA is a certificate authority of the test's own.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gingen e2e test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
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
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue writes a new key and a certificate for 127.0.0.1 signed by the CA, each to a new
// file renamed over certFile and keyFile, and returns the certificate's serial (random).
func (ca *testCA) issue(t *testing.T, certFile, keyFile string) *big.Int {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first: a generation starting in between would load the new key with the old
	// certificate and fail, which the old generation survives; never the other way round
	// here, since the test renews before it restarts.
	writeRenamed(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	writeRenamed(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return serial
}

// writeRenamed writes b to a new file beside name and renames it over name.
func writeRenamed(t *testing.T, name string, b []byte, perm os.FileMode) {
	t.Helper()
	tmp := name + ".new"
	if err := os.WriteFile(tmp, b, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}
