-- The users that may sign in at POST /auth (models.User), made by gingen new --auth jwt.

-- +goose Up
CREATE TABLE `users` (
  `id` bigint unsigned AUTO_INCREMENT,
  `created_at` datetime(3) NULL,
  `updated_at` datetime(3) NULL,
  `username` varchar(64) NOT NULL,
  `password_hash` varchar(60) NOT NULL,
  PRIMARY KEY (`id`)
) DEFAULT CHARSET=utf8mb4;
CREATE UNIQUE INDEX `idx_users_username` ON `users` (`username`);

-- +goose Down
DROP TABLE `users`;
