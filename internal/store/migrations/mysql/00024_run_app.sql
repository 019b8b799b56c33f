-- The latest runs of one application, newest first: how serve tells that
-- an application has gone silent.
-- +goose Up
ALTER TABLE `healthjob_run` ADD INDEX `healthjob_run_app` (`app_id`, `created_at`);

-- +goose Down
ALTER TABLE `healthjob_run` DROP INDEX `healthjob_run_app`;
