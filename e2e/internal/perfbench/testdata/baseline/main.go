// Command baseline is what a user would write by hand instead of a generated project: gin
// and gorm on SQLite (sqlite.go) or PostgreSQL (postgres.go), doing the work the generated
// article endpoints do and nothing more.
// GET /healthz answers the generated project's body; GET /api/v1/articles counts and pages;
// GET /api/v1/articles/:id loads one; POST /api/v1/articles validates and inserts. perfbench
// copies it with the database's file (perfbench.BaselineFiles) into the golden project it
// measures and builds it there, so that both use the same go.mod. GET /debug/allocs tells
// the harness the heap allocations so far (the generated project's /metrics says the same).
package main

import (
	"errors"
	"net/http"
	"os"
	"runtime/metrics"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
)

type article struct {
	ID          uint       `gorm:"primaryKey" json:"id"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Title       string     `gorm:"size:255;not null" json:"title"`
	Body        string     `gorm:"type:text;not null" json:"body"`
	Published   bool       `gorm:"not null" json:"published"`
	Views       int        `gorm:"not null" json:"views"`
	PublishedAt *time.Time `json:"published_at"`
}

type articleRequest struct {
	Title       string     `json:"title" binding:"required,max=255"`
	Body        string     `json:"body" binding:"required"`
	Published   bool       `json:"published"`
	Views       int        `json:"views"`
	PublishedAt *time.Time `json:"published_at"`
}

type health struct {
	Status   string `json:"status"`
	Version  string `json:"version"`
	PID      int    `json:"pid"`
	Database string `json:"database"`
}

func main() {
	db, err := openDB()
	if err != nil {
		fail(err)
	}
	if err := db.AutoMigrate(&article{}); err != nil {
		fail(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	pid := os.Getpid()
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, health{Status: "ok", Version: "baseline", PID: pid, Database: "up"})
	})
	r.GET("/api/v1/articles", func(c *gin.Context) {
		page, _ := strconv.Atoi(c.DefaultQuery("page", "1"))
		size, _ := strconv.Atoi(c.DefaultQuery("page_size", "20"))
		if page < 1 || size < 1 || size > 100 {
			c.JSON(http.StatusBadRequest, gin.H{"error": "bad page"})
			return
		}
		var total int64
		items := []article{}
		q := db.WithContext(c.Request.Context())
		if err := q.Model(&article{}).Count(&total).Error; err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
			return
		}
		if err := q.Order("id").Limit(size).Offset((page - 1) * size).Find(&items).Error; err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"items": items, "total": total, "page": page, "page_size": size})
	})
	r.GET("/api/v1/articles/:id", func(c *gin.Context) {
		id, err := strconv.ParseUint(c.Param("id"), 10, 64)
		if err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": "bad id"})
			return
		}
		var a article
		switch err := db.WithContext(c.Request.Context()).First(&a, id).Error; {
		case errors.Is(err, gorm.ErrRecordNotFound):
			c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
		case err != nil:
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
		default:
			c.JSON(http.StatusOK, a)
		}
	})
	r.POST("/api/v1/articles", func(c *gin.Context) {
		var req articleRequest
		if err := c.ShouldBindJSON(&req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		a := article{Title: req.Title, Body: req.Body, Published: req.Published, Views: req.Views, PublishedAt: req.PublishedAt}
		if err := db.WithContext(c.Request.Context()).Create(&a).Error; err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
			return
		}
		c.JSON(http.StatusCreated, a)
	})
	r.GET("/debug/allocs", func(c *gin.Context) {
		s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
		metrics.Read(s)
		c.String(http.StatusOK, "%d", s[0].Value.Uint64())
	})
	port := os.Getenv("BASE_SERVER_HTTPPORT")
	if port == "" {
		port = "8080"
	}
	if err := r.Run("127.0.0.1:" + port); err != nil {
		fail(err)
	}
}

func fail(err error) {
	os.Stderr.WriteString("baseline: " + err.Error() + "\n")
	os.Exit(1)
}
