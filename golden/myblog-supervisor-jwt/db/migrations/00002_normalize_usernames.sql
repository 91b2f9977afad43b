-- One user name, one identity: the application stores and looks up every user name in one
-- form (models.NormalizeUsername: Unicode NFKC, case folded, surrounding spaces trimmed), so
-- that `ADMIN`, ` admin ` and the full-width `ａｄｍｉｎ` are the user admin, and are throttled
-- as admin. gingen upgrade numbers this migration after a project's own ones.
--
-- Up brings the names stored before into that form as far as SQL can (ASCII capitals and
-- spaces; a name with other capitals or compatibility characters must be renamed by hand to
-- models.NormalizeUsername's form to sign in again). If two users' names differ only so,
-- the migration fails on the unique index: rename or delete one of them first.

-- +goose Up
UPDATE `users` SET `username` = LOWER(TRIM(`username`));

-- +goose Down
-- Nothing to undo: the names stay in their normalized form.
SELECT 1;
