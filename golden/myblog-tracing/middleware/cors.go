package middleware

import (
	"fmt"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"myblog/pkg/setting"
)

// CORS returns the CORS middleware of [cors] (github.com/gin-contrib/cors), or nil when
// AllowOrigins is empty: then no CORS header is sent and browsers keep to same-origin calls.
func CORS(cfg setting.CORS) (gin.HandlerFunc, error) {
	origins := cfg.Origins()
	if len(origins) == 0 {
		return nil, nil
	}
	c := cors.Config{
		AllowMethods:     cfg.Methods(),
		AllowHeaders:     cfg.Headers(),
		ExposeHeaders:    []string{RequestIDHeader, "Retry-After"},
		AllowCredentials: cfg.AllowCredentials,
		MaxAge:           cfg.MaxAge,
	}
	if len(origins) == 1 && origins[0] == "*" {
		c.AllowAllOrigins = true
	} else {
		c.AllowOrigins = origins
	}
	// cors.New panics on a configuration Validate refuses.
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("[cors]: %w", err)
	}
	return cors.New(c), nil
}
