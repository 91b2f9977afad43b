// Package perfbench compares what a request costs on a generated project with what it costs
// on a hand-written baseline doing the same work (testdata/baseline): CPU time and heap
// allocations per request, latency, throughput, binary size, memory and start-up. The
// command e2e/cmd/perfbench runs the servers; this package holds what it measures with and
// how it reports, so that both can be tested without a server.
package perfbench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BaselineDir is the hand-written server's source folder, relative to this package: main.go
// and one file per database that opens it (BaselineFiles).
const BaselineDir = "testdata/baseline"

// The databases perfbench measures on.
const (
	SQLite     = "SQLite"
	PostgreSQL = "PostgreSQL"
)

// BaselineFiles returns the baseline's source files for database, relative to BaselineDir:
// main.go and the file that opens that database with the generated project's driver. Only
// those are copied into the project, whose go.mod requires that driver and not the other.
func BaselineFiles(database string) ([]string, error) {
	switch database {
	case SQLite:
		return []string{"main.go", "sqlite.go"}, nil
	case PostgreSQL:
		return []string{"main.go", "postgres.go"}, nil
	}
	return nil, fmt.Errorf("no baseline for database %q: want %s or %s", database, SQLite, PostgreSQL)
}

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// ParseProcStat returns the CPU time (utime + stime) of a /proc/PID/stat line.
func ParseProcStat(stat []byte) (time.Duration, error) {
	// The command name is in parentheses and may hold spaces and parentheses: the fields
	// follow the last ')'. state is field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("/proc/PID/stat: no command name")
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/PID/stat: %d fields after the command name, want at least 13", len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil || utime < 0 || stime < 0 {
		return 0, fmt.Errorf("/proc/PID/stat: utime %q, stime %q: not clock ticks", fields[11], fields[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// ParseStatusKB returns a "Key:   1234 kB" line of /proc/PID/status (VmRSS, VmHWM) in bytes.
func ParseStatusKB(status []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("/proc/PID/status %s: %q, want a number of kB", key, rest)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("/proc/PID/status %s: %q, want a number of kB", key, rest)
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("/proc/PID/status: no %s line", key)
}

// ParseMallocs returns go_memstats_mallocs_total from a Prometheus text exposition (the
// generated project's /metrics), or the bare number the baseline's /debug/allocs answers.
func ParseMallocs(body []byte) (uint64, error) {
	if n, err := strconv.ParseUint(strings.TrimSpace(string(body)), 10, 64); err == nil {
		return n, nil
	}
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(line, "go_memstats_mallocs_total ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("go_memstats_mallocs_total %q: not a count", strings.TrimSpace(rest))
		}
		return uint64(f), nil
	}
	return 0, errors.New("no go_memstats_mallocs_total in the metrics")
}

// Sample is one batch of requests to one endpoint of one server.
type Sample struct {
	Requests int
	Failed   int
	Elapsed  time.Duration
	CPU      time.Duration
	// Allocs is the heap allocations the server made during the batch, the reads of its
	// counter taken out.
	Allocs    uint64
	Latencies []time.Duration
}

// Stat is what the samples of one endpoint of one server come to.
type Stat struct {
	Requests, Failed int
	// CPUPerRequest and AllocsPerRequest are totals over every sample divided by the
	// requests: the clock-tick rounding of each sample averages out.
	CPUPerRequest    time.Duration
	AllocsPerRequest float64
	P50, P99         time.Duration
	// Throughput is the median of the samples' requests per second.
	Throughput float64
}

// Summarize folds samples into a Stat.
func Summarize(samples []Sample) Stat {
	var s Stat
	var cpu time.Duration
	var allocs uint64
	var lat []time.Duration
	var rates []float64
	for _, x := range samples {
		s.Requests += x.Requests
		s.Failed += x.Failed
		cpu += x.CPU
		allocs += x.Allocs
		lat = append(lat, x.Latencies...)
		if x.Elapsed > 0 {
			rates = append(rates, float64(x.Requests)/x.Elapsed.Seconds())
		}
	}
	if s.Requests == 0 {
		return s
	}
	s.CPUPerRequest = cpu / time.Duration(s.Requests)
	s.AllocsPerRequest = float64(allocs) / float64(s.Requests)
	slices.Sort(lat)
	s.P50, s.P99 = quantile(lat, 0.50), quantile(lat, 0.99)
	slices.Sort(rates)
	if len(rates) > 0 {
		s.Throughput = rates[len(rates)/2]
	}
	return s
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// Median is the middle of ds (the upper middle for an even count); 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
