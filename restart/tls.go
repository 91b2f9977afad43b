package restart

import (
	"crypto/tls"
	"fmt"
)

// tlsConfig loads Options.CertFile and Options.KeyFile: nil, nil when neither is set (plain
// HTTP). Each generation loads the pair when it starts, before it reports ready, so a restart
// (SIGHUP) is how renewed certificates on disk are taken up, and a generation whose pair does
// not load fails to start: the one serving goes on with the certificate it has.
func (o Options) tlsConfig() (*tls.Config, error) {
	if o.CertFile == "" && o.KeyFile == "" {
		return nil, nil
	}
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, fmt.Errorf("TLS needs both a certificate and a key file (CertFile %q, KeyFile %q)", o.CertFile, o.KeyFile)
	}
	cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", o.CertFile, o.KeyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// HTTP/2 first, HTTP/1.1 for the clients without it. http.Server.ServeTLS adds the
		// same; they are set here so that the configuration says what is served.
		NextProtos: []string{"h2", "http/1.1"},
	}, nil
}
