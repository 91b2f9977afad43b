// Package api holds the handlers outside the versioned resources: signing in (POST /auth)
// and who the token names (GET /api/v1/me).
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"myblog/middleware"
	"myblog/models"
	"myblog/pkg/auth"
)

// maxLoginBytes bounds the body of POST /auth.
const maxLoginBytes = 4 << 10

// LoginRequest is the body of POST /auth.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse is the answer to a successful POST /auth: send the token as
// "Authorization: Bearer <token>" until it expires.
type LoginResponse struct {
	Token     string    `json:"token"`
	TokenType string    `json:"token_type"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Login handles POST /auth: it checks the username and password against the users table
// and answers a signed token (200), or 401 for wrong credentials, 400 for a malformed body
// (408 for one that came too slowly),
// 429 with Retry-After once the client IP, or the user name from this client, is throttled,
// and 503 while the database cannot be reached. A user name is throttled in its normalized
// form (models.NormalizeUsername), so that its spellings share one allowance, and counted
// before its password is checked (auth.LoginThrottles.Begin); throttled attempts cost no
// password check. The log names users by a keyed hash (LoginThrottles.LogName), never in the
// clear.
func Login(db *gorm.DB, tokens *auth.Tokens, throttles *auth.LoginThrottles) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		client := c.ClientIP()
		// A request that is no sign-in (a malformed body, a name or password missing) is
		// answered 400 before the throttle: it guesses nothing and costs no password check, so
		// it neither spends the client's allowance nor is hidden behind a 429.
		var req LoginRequest
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxLoginBytes)
		if err := c.ShouldBindJSON(&req); err != nil || req.Username == "" || req.Password == "" {
			// A body cut for coming too slowly ([server] BodyMinRate, or the connection shed at
			// the connection cap) is a timeout, not a malformed request.
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.AbortWithStatusJSON(http.StatusRequestTimeout, gin.H{"error": "request body arrived too slowly"})
				return
			}
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": `send a JSON object {"username": "...", "password": "..."}`})
			return
		}
		if ok, wait := throttles.Clients.Allow(client); !ok {
			slog.WarnContext(ctx, "sign-in throttled", "client", client, "reason", "client")
			tooManyAttempts(c, wait)
			return
		}
		// The key of a name no user can have (longer than the column) is cut to that length:
		// the throttle's memory per key stays bounded.
		userKey := models.NormalizeUsername(req.Username)
		userKey = userKey[:min(len(userKey), models.MaxUsernameBytes)]
		attempt, err := throttles.Begin(ctx, userKey, client)
		if wait, ok := auth.IsThrottled(err); ok {
			slog.WarnContext(ctx, "sign-in throttled", "client", client, "reason", err.Error(), "user", throttles.LogName(userKey))
			tooManyAttempts(c, wait)
			return
		}
		if err != nil {
			failed(c, err)
			return
		}
		var user *models.User
		err = throttles.Check(ctx, func() (err error) {
			user, err = models.Authenticate(ctx, db, req.Username, req.Password)
			return err
		})
		switch {
		case errors.Is(err, models.ErrBadCredentials):
			attempt.Done(false)
			slog.InfoContext(ctx, "sign-in refused", "user", throttles.LogName(userKey), "client", client, "slowed", attempt.Delayed)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": err.Error()})
			return
		case err != nil:
			// Not a guess: the database failed, or the client went away while waiting.
			attempt.Done(true)
			failed(c, err)
			return
		}
		attempt.Done(true)
		token, expires, err := tokens.Issue(user.ID, user.Username)
		if err != nil {
			failed(c, err)
			return
		}
		c.JSON(http.StatusOK, LoginResponse{Token: token, TokenType: "Bearer", ExpiresAt: expires})
	}
}

// tooManyAttempts answers 429 with the seconds to wait in Retry-After.
func tooManyAttempts(c *gin.Context, wait time.Duration) {
	secs := auth.RetryAfter(wait)
	c.Header("Retry-After", strconv.Itoa(secs))
	c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": fmt.Sprintf("too many sign-in attempts; try again in %d seconds", secs)})
}

// Me handles GET /api/v1/me: the user the request's token names.
func Me(c *gin.Context) {
	claims, ok := middleware.Claims(c)
	if !ok {
		failed(c, errors.New("GET /api/v1/me is served without the JWT middleware"))
		return
	}
	id, err := claims.UserID()
	if err != nil {
		failed(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": id, "username": claims.Username, "expires_at": claims.ExpiresAt.Time})
}

// failed answers 503 when the database is unreachable and 500 otherwise, logging the cause
// without revealing it.
func failed(c *gin.Context, err error) {
	if models.IsUnavailable(err) {
		slog.WarnContext(c.Request.Context(), "database unavailable", "path", c.Request.URL.Path, "error", err)
		c.Header("Retry-After", "5")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "database unavailable; try again later"})
		return
	}
	slog.ErrorContext(c.Request.Context(), "request failed", "path", c.Request.URL.Path, "error", err)
	c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
}
