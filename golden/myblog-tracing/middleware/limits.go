package middleware

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// MaxURLBytes bounds a request's target (path and query, as sent): a longer one is answered
// 414 before any handler reads it. Browsers and proxies keep URLs far shorter.
const MaxURLBytes = 8 << 10

// MaxLogValueBytes bounds a value a client chose (a path, a header, a query) in the log: a
// longer one is cut and marked, so a client cannot fill the disk through the log.
const MaxLogValueBytes = 512

// URLLimit answers 414 URI Too Long to a request whose target is longer than MaxURLBytes.
func URLLimit() gin.HandlerFunc {
	return func(c *gin.Context) {
		if len(c.Request.RequestURI) > MaxURLBytes || len(c.Request.URL.RawQuery)+len(c.Request.URL.Path) > MaxURLBytes {
			c.Header("Connection", "close")
			c.AbortWithStatusJSON(http.StatusRequestURITooLong, gin.H{"error": fmt.Sprintf("the URL is longer than %d bytes", MaxURLBytes)})
			return
		}
		c.Next()
	}
}

// Clip returns s cut to MaxLogValueBytes (on a character boundary) and marked with how much
// was left out, for logging a value a client chose.
func Clip(s string) string { return clip(s, MaxLogValueBytes) }

func clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...[%d more bytes]", s[:cut], len(s)-cut)
}
