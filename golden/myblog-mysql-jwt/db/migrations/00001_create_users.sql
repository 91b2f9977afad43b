-- The users that may sign in at POST /auth (models.User), made by gingen new --auth jwt.
-- IF NOT EXISTS: a database of a project that gingen upgrade brought onto migrations has the
-- table already, made by gorm's AutoMigrate; this records it as applied.

-- +goose Up
CREATE TABLE IF NOT EXISTS `users` (
  `id` bigint unsigned AUTO_INCREMENT,
  `created_at` datetime(3) NULL,
  `updated_at` datetime(3) NULL,
  `username` varchar(64) NOT NULL,
  `password_hash` varchar(60) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE INDEX `idx_users_username` (`username`)
) DEFAULT CHARSET=utf8mb4;

-- +goose Down
DROP TABLE `users`;
