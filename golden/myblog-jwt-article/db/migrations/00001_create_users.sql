-- The users that may sign in at POST /auth (models.User), made by gingen new --auth jwt.
-- IF NOT EXISTS: a database of a project that gingen upgrade brought onto migrations has the
-- table already, made by gorm's AutoMigrate; this records it as applied.

-- +goose Up
CREATE TABLE IF NOT EXISTS `users` (
  `id` integer PRIMARY KEY AUTOINCREMENT,
  `created_at` datetime,
  `updated_at` datetime,
  `username` text NOT NULL,
  `password_hash` text NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_users_username` ON `users`(`username`);

-- +goose Down
DROP TABLE `users`;
