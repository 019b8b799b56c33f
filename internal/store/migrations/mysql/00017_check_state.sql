-- The current status of each check of each application that reports to
-- serve, kept up to date by every payload: what the status API answers
-- without reading the records. changed_at is when the status last changed.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_check_state` (
    `app_id` varchar(100) NOT NULL,
    `name` varchar(50) NOT NULL,
    `status` integer NOT NULL,
    `message` longtext NOT NULL,
    `level` varchar(16) NOT NULL,
    `run_uuid` char(36) NOT NULL,
    `checked_at` datetime(6) NOT NULL,
    `changed_at` datetime(6) NOT NULL,
    PRIMARY KEY (`app_id`, `name`)
);

-- +goose Down
DROP TABLE `healthjob_check_state`;
