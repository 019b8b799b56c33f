-- healthjob's own columns, nullable so Django's inserts keep working, and the
-- indexes the spec's queries need (by name, by status, recent).
-- +goose Up
ALTER TABLE "django_health_check_job_heathcheckjob" ADD COLUMN "run_uuid" char(36) NULL;
ALTER TABLE "django_health_check_job_heathcheckjob" ADD COLUMN "duration_ms" real NULL;
ALTER TABLE "django_health_check_job_heathcheckjob" ADD COLUMN "app_id" varchar(100) NULL;
ALTER TABLE "django_health_check_job_heathcheckjob" ADD COLUMN "level" varchar(16) NULL;
ALTER TABLE "django_health_check_job_heathcheckjob" ADD COLUMN "critical" bool NULL;
CREATE INDEX "healthjob_record_name_created" ON "django_health_check_job_heathcheckjob" ("name", "created_at");
CREATE INDEX "healthjob_record_status_created" ON "django_health_check_job_heathcheckjob" ("status", "created_at");
CREATE INDEX "healthjob_record_created" ON "django_health_check_job_heathcheckjob" ("created_at");
CREATE INDEX "healthjob_record_run" ON "django_health_check_job_heathcheckjob" ("run_uuid");

-- +goose Down
DROP INDEX "healthjob_record_run";
DROP INDEX "healthjob_record_created";
DROP INDEX "healthjob_record_status_created";
DROP INDEX "healthjob_record_name_created";
ALTER TABLE "django_health_check_job_heathcheckjob" DROP COLUMN "critical";
ALTER TABLE "django_health_check_job_heathcheckjob" DROP COLUMN "level";
ALTER TABLE "django_health_check_job_heathcheckjob" DROP COLUMN "app_id";
ALTER TABLE "django_health_check_job_heathcheckjob" DROP COLUMN "duration_ms";
ALTER TABLE "django_health_check_job_heathcheckjob" DROP COLUMN "run_uuid";
