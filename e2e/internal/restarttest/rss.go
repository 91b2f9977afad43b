package restarttest

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is the resident memory of a server's processes over a run, in bytes.
type Memory struct {
	// PeakProcess is the largest peak RSS (VmHWM, kept by the kernel) of any single server
	// process: a generation, a supervisor master or worker.
	PeakProcess int64
	// PeakTotal is the largest sum of the RSS of every server process alive at one sample:
	// during a hand-over two generations are resident at once.
	PeakTotal int64
}

// MemorySampler samples the RSS of a server's processes until stopped.
type MemorySampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	mem    Memory
	sample func() // one sample, also taken by Stop
}

// SampleMemory samples every 100ms until Stop.
func SampleMemory(srv *Server) *MemorySampler {
	ctx, cancel := context.WithCancel(context.Background())
	m := &MemorySampler{cancel: cancel, done: make(chan struct{})}
	m.sample = func() {
		var total int64
		peak := int64(0)
		for _, pid := range srv.GroupPIDs() {
			rss, hwm := procMemory(pid)
			total += rss
			peak = max(peak, hwm)
		}
		m.mu.Lock()
		m.mem.PeakTotal = max(m.mem.PeakTotal, total)
		m.mem.PeakProcess = max(m.mem.PeakProcess, peak)
		m.mu.Unlock()
	}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			m.sample()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// Stop ends the sampling and returns the peaks.
func (m *MemorySampler) Stop() Memory {
	m.sample()
	m.cancel()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mem
}

// procMemory reads VmRSS and VmHWM of pid, in bytes (0 when the process is gone).
func procMemory(pid int) (rss, hwm int64) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if key == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
	}
	return rss, hwm
}

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// CPUTime is the CPU time (user and system) used so far by the server's live processes.
func (s *Server) CPUTime() time.Duration {
	var total time.Duration
	for _, pid := range s.GroupPIDs() {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may hold spaces:
		// state is field 3, utime 14 and stime 15.
		i := strings.LastIndexByte(string(stat), ')')
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		total += time.Duration(utime+stime) * clockTick
	}
	return total
}
