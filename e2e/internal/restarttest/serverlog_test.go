package restarttest

import (
	"fmt"
	"strings"
	"testing"
)

func TestSummarizeServerLogLeavesOutSucceededRequests(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"level":"INFO","msg":"serving","addr":"127.0.0.1:8000"}` + "\n")
	for i := range 1000 {
		fmt.Fprintf(&b, `{"level":"INFO","msg":"request","status":%d,"path":"/healthz"}`+"\n", 200+i%300)
	}
	b.WriteString(`{"level":"ERROR","msg":"request","status":503,"path":"/api/v1/notes"}` + "\n")
	b.WriteString("panic: not JSON\n")
	got := SummarizeServerLog([]byte(b.String()))
	want := "(1000 access log lines of requests answered below 500 left out)\n" +
		`{"level":"INFO","msg":"serving","addr":"127.0.0.1:8000"}` + "\n" +
		`{"level":"ERROR","msg":"request","status":503,"path":"/api/v1/notes"}` + "\n" +
		"panic: not JSON\n"
	if got != want {
		t.Errorf("SummarizeServerLog =\n%s\nwant\n%s", got, want)
	}
}

func TestSummarizeServerLogKeepsTheFirstAndLastLines(t *testing.T) {
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	lines := strings.Split(strings.TrimSuffix(SummarizeServerLog([]byte(b.String())), "\n"), "\n")
	if len(lines) != serverLogKeep+1 {
		t.Fatalf("%d lines, want %d (the kept ones and a line saying how many were left out)", len(lines), serverLogKeep+1)
	}
	if lines[0] != "line 0" || lines[serverLogHead-1] != "line 19" || lines[serverLogHead] != "(120 lines left out)" || lines[serverLogHead+1] != "line 140" || lines[len(lines)-1] != "line 199" {
		t.Errorf("kept lines: %q ... %q, %q, %q ... %q", lines[0], lines[serverLogHead-1], lines[serverLogHead], lines[serverLogHead+1], lines[len(lines)-1])
	}
}
