-- The runs serve has stored, by uuid: the payload's idempotency key. The
-- primary key makes a payload stored once however often it is delivered,
-- to however many replicas.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_run` (
    `uuid` char(36) NOT NULL PRIMARY KEY,
    `app_id` varchar(100) NOT NULL,
    `created_at` datetime(6) NOT NULL,
    `received_at` datetime(6) NOT NULL,
    `checks` integer NOT NULL,
    INDEX `healthjob_run_created` (`created_at`)
);

-- +goose Down
DROP TABLE `healthjob_run`;
