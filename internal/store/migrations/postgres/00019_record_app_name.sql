-- The history of one check of one application, newest first, as the status
-- API pages it: without this index it would read every application's
-- records of that check name.
-- +goose Up
CREATE INDEX "healthjob_record_app_name" ON "django_health_check_job_heathcheckjob" ("app_id", "name", "created_at", "id");

-- +goose Down
DROP INDEX "healthjob_record_app_name";
