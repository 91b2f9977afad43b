package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"myblog/models"
	"myblog/pkg/auth"
)

// claimsKey is where JWT leaves the token's claims in the gin.Context.
const claimsKey = "myblog/middleware.claims"

// UserExists reports whether the user a token names still exists (models.UserExists).
type UserExists func(ctx context.Context, id uint, username string) (bool, error)

// JWT admits a request only with a valid token from POST /auth in its Authorization header
// ("Authorization: Bearer <token>") whose user still exists, and answers 401 otherwise (503
// while the database cannot be reached). Handlers read the token's claims with Claims.
func JWT(tokens *auth.Tokens, exists UserExists) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, ok := bearerToken(c.GetHeader("Authorization"))
		if !ok {
			unauthorized(c, "", "missing bearer token; send Authorization: Bearer <token from POST /auth>")
			return
		}
		claims, err := tokens.Parse(token)
		switch {
		case errors.Is(err, auth.ErrExpired):
			unauthorized(c, "invalid_token", "token expired; get a new one from POST /auth")
			return
		case err != nil:
			unauthorized(c, "invalid_token", "invalid token")
			return
		}
		// A token outlives nothing but its user: one of a deleted user is refused. The check
		// is a primary-key lookup.
		id, err := claims.UserID()
		if err != nil {
			unauthorized(c, "invalid_token", "invalid token")
			return
		}
		found, err := exists(c.Request.Context(), id, claims.Username)
		switch {
		case err != nil && models.IsUnavailable(err):
			slog.WarnContext(c.Request.Context(), "database unavailable", "path", c.Request.URL.Path, "error", err)
			c.Header("Retry-After", "5")
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "database unavailable; try again later"})
			return
		case err != nil:
			slog.ErrorContext(c.Request.Context(), "request failed", "path", c.Request.URL.Path, "error", err)
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
			return
		case !found:
			unauthorized(c, "invalid_token", "the token's user no longer exists")
			return
		}
		c.Set(claimsKey, claims)
		c.Next()
	}
}

// Claims returns the claims of the request's token, which JWT checked.
func Claims(c *gin.Context) (*auth.Claims, bool) {
	v, ok := c.Get(claimsKey)
	if !ok {
		return nil, false
	}
	claims, ok := v.(*auth.Claims)
	return claims, ok
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header; the scheme's
// case does not matter (RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// unauthorized answers 401 with a WWW-Authenticate challenge (RFC 6750) naming the error,
// if any, and the API's error body.
func unauthorized(c *gin.Context, code, msg string) {
	challenge := `Bearer realm="myblog"`
	if code != "" {
		challenge += `, error="` + code + `"`
	}
	c.Header("WWW-Authenticate", challenge)
	c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": msg})
}
