package v1

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestCallerIDIsTheUserOfTheToken(t *testing.T) {
	db := newTestDB(t)
	owner := testOwner(t, db)
	answer := func(c *gin.Context) {
		if id, ok := callerID(c); ok {
			c.String(http.StatusOK, strconv.FormatUint(uint64(id), 10))
		}
	}
	r := gin.New()
	r.GET("/inside", newTestJWT(t, db), answer)
	// A route mounted outside the JWT group by mistake: no caller, and no guess.
	r.GET("/outside", answer)

	req := httptest.NewRequest(http.MethodGet, "/inside", nil)
	req.Header.Set("Authorization", "Bearer "+testToken(t, owner))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if want := strconv.FormatUint(uint64(owner.ID), 10); rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Errorf("callerID behind JWT answered %d %s, want 200 %s", rec.Code, rec.Body, want)
	}
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/outside", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("callerID outside JWT answered %d %s, want 500", rec.Code, rec.Body)
	}
}
