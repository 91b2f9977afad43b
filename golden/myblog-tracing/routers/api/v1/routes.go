// Package v1 holds the handlers of the /api/v1 resources.
package v1

import (
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
)

// Register mounts every resource of the API on the /api/v1 group.
func Register(api *gin.RouterGroup, db *gorm.DB) {
	RegisterArticles(api, db)
	// gingen:routes
}
