// Package middleware holds the gin middleware the routes share: request ids, the access log,
// panic recovery.
package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
)

// RequestIDHeader carries a request's id: taken from the request when a proxy in front set a
// usable one, made up otherwise, and always sent back in the response.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLength bounds an id taken from a client: longer ones are replaced.
const maxRequestIDLength = 128

// requestIDKey is where RequestID leaves the id in the request's context.
type requestIDKey struct{}

// RequestID gives every request an id: the X-Request-ID header it came with, when that is 1
// to 128 characters of letters, digits and -_.:/+= (ids of load balancers and tracing
// systems), or 16 random bytes in hex. The id goes back in the X-Request-ID response header
// and into the request's context, where every log line written with that context carries it
// (see LogHandler).
func RequestID() gin.HandlerFunc {
	// The header's canonical spelling (X-Request-Id), looked up once: Header.Get and Set
	// would spell it out again, a new string, on every request.
	key := http.CanonicalHeaderKey(RequestIDHeader)
	return func(c *gin.Context) {
		var id string
		if v := c.Request.Header[key]; len(v) > 0 {
			id = v[0]
		}
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Writer.Header()[key] = []string{id}
		c.Request = c.Request.WithContext(WithRequestID(c.Request.Context(), id))
		c.Next()
	}
}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the id RequestID gave the request ctx belongs to, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// validRequestID keeps ids that cannot forge log lines or headers: printable ASCII from a
// small set, bounded in length.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '_', r == '.', r == ':', r == '/', r == '+', r == '=':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// LogHandler adds the request id of the context a record is logged with (slog's
// InfoContext and siblings) as request_id, so that the lines of one request, gorm's
// included, can be found together; and the trace id of the context's span as
// trace_id when the span is recording ([tracing] Enabled, the trace sampled), so that the
// lines lead to the trace.
func LogHandler(h slog.Handler) slog.Handler {
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	r = boundRecord(r)
	if id := RequestIDFrom(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		r.AddAttrs(slog.String("trace_id", span.SpanContext().TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// maxLogStringBytes bounds every string or error in a log line (a panic's stack excepted),
// whoever wrote it: an error that quotes a client's input (a JSON syntax error, a driver's
// message) cannot grow a line past it. Values known to come from clients are cut shorter by
// their writers (Clip).
const maxLogStringBytes = 4 << 10

// boundRecord returns r with its message and long string and error attributes cut to
// maxLogStringBytes; r itself when nothing is that long (nearly always: copying every record,
// an access log line on every request, would cost an allocation each).
func boundRecord(r slog.Record) slog.Record {
	long := len(r.Message) > maxLogStringBytes
	r.Attrs(func(a slog.Attr) bool {
		long = oversized(a)
		return !long
	})
	if !long {
		return r
	}
	out := slog.NewRecord(r.Time, r.Level, clip(r.Message, maxLogStringBytes), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(boundAttr(a))
		return true
	})
	return out
}

// oversized reports whether boundAttr would cut a.
func oversized(a slog.Attr) bool {
	if a.Key == "stack" {
		return false
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return len(v.String()) > maxLogStringBytes
	case slog.KindAny:
		err, ok := v.Any().(error)
		return ok && len(err.Error()) > maxLogStringBytes
	case slog.KindGroup:
		return slices.ContainsFunc(v.Group(), oversized)
	}
	return false
}

func boundAttr(a slog.Attr) slog.Attr {
	if a.Key == "stack" {
		return a
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if len(v.String()) > maxLogStringBytes {
			return slog.String(a.Key, clip(v.String(), maxLogStringBytes))
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && len(err.Error()) > maxLogStringBytes {
			return slog.String(a.Key, clip(err.Error(), maxLogStringBytes))
		}
	case slog.KindGroup:
		attrs := v.Group()
		bounded := make([]any, len(attrs))
		for i, g := range attrs {
			bounded[i] = boundAttr(g)
		}
		return slog.Group(a.Key, bounded...)
	}
	return a
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
