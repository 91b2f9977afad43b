package middleware

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// bodyServer serves POST / with BodyDeadline(1000 B/s, 200ms grace, 10s): the handler reads
// the whole body, then works for afterRead, and answers the bytes read (408 when the body was
// too slow, 500 when the request's context ended while it worked).
func bodyServer(t *testing.T, afterRead time.Duration) *httptest.Server {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(BodyDeadline(1000, 200*time.Millisecond, 10*time.Second))
	r.POST("/", func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		if errors.Is(err, ErrBodyTooSlow) {
			c.String(http.StatusRequestTimeout, "too slow after %d bytes", len(b))
			return
		}
		if err != nil {
			c.String(http.StatusBadRequest, "read: %v", err)
			return
		}
		select {
		case <-time.After(afterRead):
		case <-c.Request.Context().Done():
			c.String(http.StatusInternalServerError, "context ended while the handler worked")
			return
		}
		c.String(http.StatusOK, "%d", len(b))
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// dial opens a raw connection, bounded by the test's own deadline (not a timing goal: the
// server must act long before it).
func dial(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestASlowBodyIsCutOffAfterItsGrace(t *testing.T) {
	conn := dial(t, bodyServer(t, 0))
	// Headers and 10 bytes of a 100000-byte body, then nothing more: 1000 B/s needs 100s.
	if _, err := fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a trickled body before the test's deadline: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status = %d (%s), want 408", resp.StatusCode, body)
	}
	// The connection is closed: the rest of the body cannot be read as a next request.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after the 408 the connection is still open (read: %v)", err)
	}
}

func TestABodyAtTheMinimumRateIsServed(t *testing.T) {
	// 1400 bytes at 1000 B/s may take 1.4s, and the handler works 1.5s after reading them,
	// past that deadline: the request's context must outlive it (BodyDeadline clears the
	// deadline at the body's end, as net/http does before its own background read). The
	// client keeps ahead of the minimum by 400ms or more at every moment, so
	// that a loaded machine's scheduling stalls (tens to hundreds of milliseconds) do not
	// look like a slow client: 400 bytes with the headers (allowed until 400ms), then 100
	// bytes every 25ms (4000 B/s) for 250ms, past the 200ms grace.
	conn := dial(t, bodyServer(t, 1500*time.Millisecond))
	const first, chunks, size = 400, 10, 100
	total := first + chunks*size
	if _, err := fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n%s", total, make([]byte, first)); err != nil {
		t.Fatal(err)
	}
	for range chunks {
		time.Sleep(25 * time.Millisecond)
		if _, err := conn.Write(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != strconv.Itoa(total) {
		t.Errorf("status = %d, body %q; want 200 and %d", resp.StatusCode, body, total)
	}
}

func TestARequestWithoutABodyGetsNoBodyDeadline(t *testing.T) {
	// A GET has no body: its handler may work past the grace with its context intact.
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(BodyDeadline(1000, 100*time.Millisecond, 10*time.Second))
	r.GET("/", func(c *gin.Context) {
		select {
		case <-time.After(300 * time.Millisecond):
			c.Status(http.StatusNoContent)
		case <-c.Request.Context().Done():
			c.Status(http.StatusInternalServerError)
		}
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status = %d, want 204", resp.StatusCode)
	}
}
