// Command baregin is the throughput baseline of the restart benchmark: gin's hello world,
// answering GET /healthz with the same JSON as a generated project, with nothing else (no
// middleware, no restart strategy, no database).
package main

import (
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
)

// version is stamped at build time, like a generated project's.
var version = "dev"

func main() {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "version": version, "pid": os.Getpid()})
	})
	port := os.Getenv("BARE_SERVER_HTTPPORT")
	if port == "" {
		port = "8080"
	}
	if err := r.Run("127.0.0.1:" + port); err != nil {
		os.Stderr.WriteString("baregin: " + err.Error() + "\n")
		os.Exit(1)
	}
}
