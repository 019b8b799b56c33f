-- The outbox: payloads waiting to leave the process, oldest first, per kind
-- ("sync": for the monitoring server; "persist": runs waiting for a records
-- database that is down) and application.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_outbox` (
    `id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY,
    `kind` varchar(16) NOT NULL,
    `app_id` varchar(100) NOT NULL,
    `run_uuid` char(36) NOT NULL,
    `payload` longblob NOT NULL,
    `created_at` datetime(6) NOT NULL,
    INDEX `healthjob_outbox_queue` (`kind`, `app_id`, `id`)
);

-- +goose Down
DROP TABLE `healthjob_outbox`;
