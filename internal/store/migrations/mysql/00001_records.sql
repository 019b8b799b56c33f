-- The records table exactly as Django creates it for the HeathCheckJob model
-- on MySQL and MariaDB, kept when a Django project already has it. Each
-- MySQL migration is one statement: DDL commits on its own, so a file of
-- several could stop half-applied.
-- +goose Up
CREATE TABLE IF NOT EXISTS `django_health_check_job_heathcheckjob` (
    `id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY,
    `name` varchar(50) NOT NULL,
    `status` integer NOT NULL,
    `message` longtext NOT NULL,
    `created_at` datetime(6) NOT NULL,
    `updated_at` datetime(6) NOT NULL
);

-- +goose Down
DROP TABLE `django_health_check_job_heathcheckjob`;
