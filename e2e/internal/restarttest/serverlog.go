package restarttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// serverLogKeep is how many lines SummarizeServerLog keeps: the first serverLogHead and the
// rest from the end.
const (
	serverLogKeep = 80
	serverLogHead = 20
)

// SummarizeServerLog returns a server's output (the generated projects' JSON log) for a
// failed test's output: without the access log's lines of requests that succeeded (counted
// instead), and at most serverLogKeep lines, the first and the last. A run's access log holds
// thousands of lines, and a CI log shows its tail: the test's own errors must stay in view.
func SummarizeServerLog(b []byte) string {
	var kept []string
	ok := 0
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		if line == "" {
			continue
		}
		if isOKRequestLine(line) {
			ok++
			continue
		}
		kept = append(kept, line)
	}
	var out bytes.Buffer
	if ok > 0 {
		fmt.Fprintf(&out, "(%d access log lines of requests answered below 500 left out)\n", ok)
	}
	if len(kept) > serverLogKeep {
		tail := serverLogKeep - serverLogHead
		elided := len(kept) - serverLogKeep
		kept = append(append(kept[:serverLogHead:serverLogHead], fmt.Sprintf("(%d lines left out)", elided)), kept[len(kept)-tail:]...)
	}
	for _, l := range kept {
		out.WriteString(l)
		out.WriteByte('\n')
	}
	return out.String()
}

// isOKRequestLine is true for an access log line of a request answered with a status below
// 500.
func isOKRequestLine(line string) bool {
	if !strings.Contains(line, `"msg":"request"`) {
		return false
	}
	var rec struct {
		Msg    string `json:"msg"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		return false
	}
	return rec.Msg == "request" && rec.Status > 0 && rec.Status < 500
}
