package middleware

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
)

// ErrBodyTooSlow is the error a request body's Read returns once the body has arrived more
// slowly than BodyDeadline allows. It wraps os.ErrDeadlineExceeded.
var ErrBodyTooSlow = errors.New("request body arrived too slowly")

// BodyDeadline makes request bodies arrive at a minimum rate: any body may take grace, and
// after that at least minRate bytes per second must have arrived on average since the
// request started, or the next read fails (ErrBodyTooSlow) and the connection is closed.
// It moves the connection's read deadline (http.ResponseController) each time bytes
// arrive, so a client that sends its headers and then trickles a body holds its connection,
// and its file descriptor, for seconds instead of [server] ReadTimeout. Nothing ever extends
// past maxTotal ([server] ReadTimeout) from the request's start. minRate 0 turns it off.
func BodyDeadline(minRate int, grace, maxTotal time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if minRate <= 0 || r.Body == nil || r.Body == http.NoBody || (r.ContentLength == 0 && len(r.TransferEncoding) == 0) {
			c.Next()
			return
		}
		b := &rateBody{
			body:     r.Body,
			rc:       http.NewResponseController(c.Writer),
			start:    time.Now(),
			minRate:  float64(minRate),
			grace:    grace,
			maxTotal: maxTotal,
		}
		// A writer that cannot move deadlines (a test recorder) leaves ReadTimeout alone in
		// charge: the body is served as it is.
		if b.extend() != nil {
			c.Next()
			return
		}
		c.Request.Body = b
		c.Next()
	}
}

// rateBody is a request body whose reads move the connection's read deadline.
type rateBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	minRate  float64
	grace    time.Duration
	maxTotal time.Duration
	read     int64
	done     bool
}

// extend sets the read deadline to when the average rate would fall under minRate if no
// more bytes came: start + max(grace, read/minRate), at most start + maxTotal.
func (b *rateBody) extend() error {
	allowed := max(b.grace, time.Duration(float64(b.read)/b.minRate*float64(time.Second)))
	if b.maxTotal > 0 {
		allowed = min(allowed, b.maxTotal)
	}
	return b.rc.SetReadDeadline(b.start.Add(allowed))
}

func (b *rateBody) Read(p []byte) (int, error) {
	if b.done {
		return b.body.Read(p)
	}
	n, err := b.body.Read(p)
	b.read += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		// The whole body is in: the deadline must not stay, or the server's wait for the
		// client closing the connection would end in it and cancel the request's context
		// while the handler still works. The server sets fresh deadlines for the next
		// request.
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{}) // it worked in BodyDeadline: it works here
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, errors.Join(ErrBodyTooSlow, err)
	case err == nil:
		_ = b.extend()
	}
	return n, err
}

func (b *rateBody) Close() error { return b.body.Close() }
