-- The latest runs of one application, newest first: how serve tells that
-- an application has gone silent.
-- +goose Up
CREATE INDEX "healthjob_run_app" ON "healthjob_run" ("app_id", "created_at");

-- +goose Down
DROP INDEX "healthjob_run_app";
