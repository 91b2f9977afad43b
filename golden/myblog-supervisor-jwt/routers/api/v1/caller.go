package v1

import (
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"

	"myblog/middleware"
)

// errNoCaller is callerID's error for a request that did not pass middleware.JWT.
var errNoCaller = errors.New("the request has no token's claims: its route is not behind middleware.JWT")

// callerID is the id of the user of the request's token, which middleware.JWT checked: the
// owner of what the request creates, and the only owner whose rows it sees. Without one it
// answers 500 and returns false: only a route mounted outside the JWT group has none.
func callerID(c *gin.Context) (uint, bool) {
	claims, ok := middleware.Claims(c)
	if !ok {
		respondInternal(c, errNoCaller)
		return 0, false
	}
	id, err := claims.UserID()
	if err != nil {
		respondInternal(c, fmt.Errorf("the token's user: %w", err))
		return 0, false
	}
	return id, true
}
