-- The users that may sign in at POST /auth (models.User), made by gingen new --auth jwt.

-- +goose Up
CREATE TABLE `users` (
  `id` integer PRIMARY KEY AUTOINCREMENT,
  `created_at` datetime,
  `updated_at` datetime,
  `username` text NOT NULL,
  `password_hash` text NOT NULL
);
CREATE UNIQUE INDEX `idx_users_username` ON `users`(`username`);

-- +goose Down
DROP TABLE `users`;
