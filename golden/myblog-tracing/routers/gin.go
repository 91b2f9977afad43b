package routers

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/gin-gonic/gin"
)

// ConfigureGin sets gin's mode and sends what gin prints in debug mode (its warnings and the
// route listing) to logger at debug level, so that nothing but the structured log reaches
// stdout or stderr. Call it once, before New.
func ConfigureGin(mode string, logger *slog.Logger) {
	gin.SetMode(mode)
	gin.DefaultWriter = io.Discard
	gin.DefaultErrorWriter = io.Discard
	gin.DebugPrintFunc = func(format string, values ...any) {
		logger.Debug(strings.TrimSpace(fmt.Sprintf(format, values...)), "source", "gin")
	}
	gin.DebugPrintRouteFunc = func(method, path, handler string, handlers int) {
		logger.Debug("route", "source", "gin", "method", method, "path", path, "handler", handler, "handlers", handlers)
	}
}
