package restarttest

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NotifySocket is a fake systemd notify socket: it records every sd_notify datagram.
type NotifySocket struct {
	Path string
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []Notification
}

// Notification is one sd_notify message and when it arrived.
type Notification struct {
	At     time.Time
	Fields map[string]string
}

// ListenNotify opens a unixgram socket at path.
func ListenNotify(path string) (*NotifySocket, error) {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	n := &NotifySocket{Path: path, conn: conn}
	go n.read()
	return n, nil
}

func (n *NotifySocket) read() {
	buf := make([]byte, 4096)
	for {
		k, err := n.conn.Read(buf)
		if err != nil {
			return
		}
		fields := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(buf[:k])), "\n") {
			if key, value, ok := strings.Cut(line, "="); ok {
				fields[key] = value
			}
		}
		n.mu.Lock()
		n.msgs = append(n.msgs, Notification{At: time.Now(), Fields: fields})
		n.mu.Unlock()
	}
}

// Messages returns every message so far.
func (n *NotifySocket) Messages() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Notification(nil), n.msgs...)
}

// MainPID is the last MAINPID= received, 0 if none.
func (n *NotifySocket) MainPID() int { return n.MainPIDSince(0) }

// MainPIDSince is the last MAINPID= among the messages from index mark on, 0 if none.
func (n *NotifySocket) MainPIDSince(mark int) int {
	msgs := n.Messages()
	for i := len(msgs) - 1; i >= mark; i-- {
		if v, ok := msgs[i].Fields["MAINPID"]; ok {
			pid, _ := strconv.Atoi(v)
			return pid
		}
	}
	return 0
}

// Count returns how many messages set key to value.
func (n *NotifySocket) Count(key, value string) int { return n.CountSince(0, key, value) }

// CountSince returns how many messages from index mark on set key to value.
func (n *NotifySocket) CountSince(mark int, key, value string) int {
	c := 0
	msgs := n.Messages()
	for _, m := range msgs[min(mark, len(msgs)):] {
		if m.Fields[key] == value {
			c++
		}
	}
	return c
}

// WaitCount waits until Count(key, value) reaches want.
func (n *NotifySocket) WaitCount(key, value string, want int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for n.Count(key, value) < want {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Close closes the socket.
func (n *NotifySocket) Close() error { return n.conn.Close() }
