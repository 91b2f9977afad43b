package restarttest

import (
	"net"
	"testing"
)

func TestParsePortRangeRefusesWhatIsNotARange(t *testing.T) {
	for _, s := range []string{"x", "20000-", "-20000", "20099-20000", "0-10", "65535-65536", "1-2-3", "20000-2x"} {
		if p, err := ParsePortRange(s); err == nil {
			t.Errorf("ParsePortRange(%q) = %v, want an error", s, p)
		}
	}
	for s, want := range map[string]PortRange{"": {}, "20000-20099": {20000, 20099}, "8080": {8080, 8080}, " 1 - 2 ": {1, 2}} {
		if got, err := ParsePortRange(s); err != nil || got != want {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}

func TestAPortRangeSkipsPortsInUseAndSaysWhenNoneIsLeft(t *testing.T) {
	// Two ports in a row, the first held: the second is picked; both held: an error.
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	if port == 65535 {
		t.Skip("the kernel picked the last port")
	}
	r := PortRange{First: port, Last: port + 1}
	got, err := r.FreePort()
	if err != nil {
		// The port after ours may be someone else's: then the range is exhausted.
		t.Logf("port %d busy too: %v", port+1, err)
	} else if got != port+1 {
		t.Errorf("freePort in %s = %d, want %d (the first is held)", r, got, port+1)
	}
	if _, err := (PortRange{First: port, Last: port}).FreePort(); err == nil {
		t.Errorf("freePort in %d-%d (held) succeeded, want an error", port, port)
	}
	if got, err := (PortRange{}).FreePort(); err != nil || got == 0 {
		t.Errorf("freePort of the zero range = %d, %v; want a port", got, err)
	}
}
