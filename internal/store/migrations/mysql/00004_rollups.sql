-- Hourly roll-ups per check and application, kept longer than the records:
-- runs, failures and durations, so that uptime over a year is one small
-- query.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_rollup_hourly` (
    `name` varchar(50) NOT NULL,
    `app_id` varchar(100) NOT NULL DEFAULT '',
    `bucket` datetime(6) NOT NULL,
    `runs` bigint NOT NULL,
    `failures` bigint NOT NULL,
    `duration_min` float NULL,
    `duration_max` float NULL,
    `duration_sum` double NOT NULL,
    `duration_count` bigint NOT NULL,
    PRIMARY KEY (`name`, `app_id`, `bucket`),
    INDEX `healthjob_rollup_bucket` (`bucket`)
);

-- +goose Down
DROP TABLE `healthjob_rollup_hourly`;
