package restart

import (
	"sync"
	"testing"
	"time"
)

// TestAStreamStartedAfterTheDrainSawTheLastEndIsNotWaitedFor: a client that reconnects on a
// kept-alive connection to a draining generation registers a stream after the drain found
// none left. It is told to end at once (done closed), and its end neither panics (idle closed
// twice, as it did) nor makes the drain wait.
func TestAStreamStartedAfterTheDrainSawTheLastEndIsNotWaitedFor(t *testing.T) {
	st := newStreams()
	_, end := st.add()
	idle := st.drain()
	end()
	waitClosed(t, idle, "idle after the only stream ended")
	for range 3 {
		done, late := st.add()
		waitClosed(t, done, "done of a stream registered after the drain")
		late()
		late()
	}
	if n := st.live(); n != 0 {
		t.Errorf("live streams = %d after the late ones ended, want 0", n)
	}
}

// TestAStreamStartedDuringTheDrainIsWaitedFor: while earlier streams are still ending, a new
// one is counted, and idle closes (once) when the last of them ends, whatever the order.
func TestAStreamStartedDuringTheDrainIsWaitedFor(t *testing.T) {
	st := newStreams()
	_, first := st.add()
	idle := st.drain()
	_, second := st.add()
	first()
	select {
	case <-idle:
		t.Fatal("idle closed while a stream registered during the drain runs")
	case <-time.After(50 * time.Millisecond):
	}
	var wg sync.WaitGroup
	for range 8 { // ends racing each other: one close of idle
		wg.Go(second)
	}
	wg.Wait()
	waitClosed(t, idle, "idle after the last stream ended")
}

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not closed", what)
	}
}
