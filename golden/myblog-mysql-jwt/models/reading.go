package models

import "gorm.io/gorm"

// Reading marks db's next transaction as read-only. The server runs concurrent transactions
// by itself, so it is db unchanged here; on SQLite it moves the transaction off the single
// writer connection.
func Reading(db *gorm.DB) *gorm.DB { return db }
