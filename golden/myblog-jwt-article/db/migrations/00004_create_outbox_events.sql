-- The outbox of resource events (models.OutboxEvent): every create, update and delete of a
-- resource added with --events writes one row here in the transaction of the change, so an
-- event exists exactly when its change does. GET /api/v1/PLURAL/events serves the rows in id
-- order, from any process: a client resumes after the last id it saw. gingen numbers this
-- migration after a project's own ones.

-- +goose Up
CREATE TABLE `outbox_events` (
  `id` integer PRIMARY KEY AUTOINCREMENT,
  `resource` text NOT NULL,
  `action` text NOT NULL,
  `resource_id` integer NOT NULL,
  `payload` text NOT NULL,
  `created_at` datetime
);
CREATE INDEX `idx_outbox_events_resource` ON `outbox_events` (`resource`);

-- +goose Down
DROP TABLE `outbox_events`;
