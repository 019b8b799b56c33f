-- The history of the alert states: one row per change, marked silenced
-- when a maintenance window held its notifications back.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_alert_event` (
    `id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY,
    `app_id` varchar(100) NOT NULL,
    `name` varchar(50) NOT NULL,
    `state` varchar(16) NOT NULL,
    `previous` varchar(16) NOT NULL,
    `message` longtext NOT NULL,
    `run_uuid` varchar(36) NOT NULL,
    `created_at` datetime(6) NOT NULL,
    `silenced` boolean NOT NULL,
    INDEX `healthjob_alert_event_check` (`app_id`, `name`, `created_at`)
);

-- +goose Down
DROP TABLE `healthjob_alert_event`;
