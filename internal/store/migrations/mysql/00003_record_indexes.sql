-- Indexes for the admin's list at any size: each sort column leads one,
-- followed by (created_at, id), so that a filter on a column lists newest
-- first and a sort by it pages by keyset. A longtext is indexed by a prefix,
-- which serves the exact-message filter but not a sort by message.
-- +goose Up
ALTER TABLE `django_health_check_job_heathcheckjob`
    ADD INDEX `healthjob_record_created` (`created_at`, `id`),
    ADD INDEX `healthjob_record_updated` (`updated_at`, `id`),
    ADD INDEX `healthjob_record_name` (`name`, `created_at`, `id`, `status`),
    ADD INDEX `healthjob_record_status` (`status`, `created_at`, `id`),
    ADD INDEX `healthjob_record_message` (`message`(200), `created_at`, `id`),
    ADD INDEX `healthjob_record_app` (`app_id`, `created_at`, `id`);

-- +goose Down
ALTER TABLE `django_health_check_job_heathcheckjob`
    DROP INDEX `healthjob_record_app`,
    DROP INDEX `healthjob_record_message`,
    DROP INDEX `healthjob_record_status`,
    DROP INDEX `healthjob_record_name`,
    DROP INDEX `healthjob_record_updated`,
    DROP INDEX `healthjob_record_created`;
