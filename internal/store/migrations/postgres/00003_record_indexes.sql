-- Indexes for the admin's list at any size: each sort column leads one,
-- followed by (created_at, id), so that a filter on a column lists newest
-- first, a sort by it pages by keyset, and the status history of a check
-- reads only its own rows (from the index alone: it holds the status). The
-- message index holds the first 200 characters: a B-tree entry must stay
-- under about 2,700 bytes.
-- +goose Up
CREATE INDEX "healthjob_record_created" ON "django_health_check_job_heathcheckjob" ("created_at", "id");
CREATE INDEX "healthjob_record_updated" ON "django_health_check_job_heathcheckjob" ("updated_at", "id");
CREATE INDEX "healthjob_record_name" ON "django_health_check_job_heathcheckjob" ("name", "created_at", "id") INCLUDE ("status");
CREATE INDEX "healthjob_record_status" ON "django_health_check_job_heathcheckjob" ("status", "created_at", "id");
CREATE INDEX "healthjob_record_message" ON "django_health_check_job_heathcheckjob" (left("message", 200), "created_at", "id");
CREATE INDEX "healthjob_record_app" ON "django_health_check_job_heathcheckjob" ("app_id", "created_at", "id");

-- +goose Down
DROP INDEX "healthjob_record_app";
DROP INDEX "healthjob_record_message";
DROP INDEX "healthjob_record_status";
DROP INDEX "healthjob_record_name";
DROP INDEX "healthjob_record_updated";
DROP INDEX "healthjob_record_created";
