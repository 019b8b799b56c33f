-- healthjob's own columns, nullable so Django's inserts keep working.
-- +goose Up
ALTER TABLE `django_health_check_job_heathcheckjob`
    ADD COLUMN `run_uuid` char(36) NULL,
    ADD COLUMN `duration_ms` float NULL,
    ADD COLUMN `app_id` varchar(100) NULL,
    ADD COLUMN `level` varchar(16) NULL,
    ADD COLUMN `critical` bool NULL;

-- +goose Down
ALTER TABLE `django_health_check_job_heathcheckjob`
    DROP COLUMN `critical`,
    DROP COLUMN `level`,
    DROP COLUMN `app_id`,
    DROP COLUMN `duration_ms`,
    DROP COLUMN `run_uuid`;
