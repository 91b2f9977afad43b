package restarttest

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// PortRange is a range of loopback TCP ports, First to Last inclusive, that the harness picks
// servers' ports from; the zero value lets the kernel pick any free port.
type PortRange struct {
	First, Last int
}

// ParsePortRange reads "FIRST-LAST" (e.g. 20000-20099) or a single port; "" is the zero
// PortRange.
func ParsePortRange(s string) (PortRange, error) {
	if s == "" {
		return PortRange{}, nil
	}
	first, last, found := strings.Cut(s, "-")
	if !found {
		last = first
	}
	a, errA := strconv.Atoi(strings.TrimSpace(first))
	b, errB := strconv.Atoi(strings.TrimSpace(last))
	if err := errors.Join(errA, errB); err != nil || a < 1 || b > 65535 || a > b {
		return PortRange{}, fmt.Errorf("port range %q: want FIRST-LAST with 1 <= FIRST <= LAST <= 65535, e.g. 20000-20099", s)
	}
	return PortRange{First: a, Last: b}, nil
}

// String is the range as ParsePortRange reads it; "any" for the zero value.
func (p PortRange) String() string {
	if p == (PortRange{}) {
		return "any"
	}
	return fmt.Sprintf("%d-%d", p.First, p.Last)
}

// listen listens on the first port of p free on 127.0.0.1 (any free port for the zero
// value).
func (p PortRange) listen() (*net.TCPListener, error) {
	if p == (PortRange{}) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listen on loopback: %w", err)
		}
		return ln.(*net.TCPListener), nil
	}
	var last error
	for port := p.First; port <= p.Last; port++ {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			return ln.(*net.TCPListener), nil
		}
		last = err
	}
	return nil, fmt.Errorf("no free port in %s on 127.0.0.1: %w", p, last)
}

// FreePort returns a port of p free now; the caller's server binds it next.
func (p PortRange) FreePort() (int, error) {
	ln, err := p.listen()
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
