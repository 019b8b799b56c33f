-- The cycles run under an HA lease: which holder (hostname:pid) ran each
-- run, from when to when.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_cycle` (
    `run_uuid` varchar(36) NOT NULL PRIMARY KEY,
    `lease` varchar(200) NOT NULL,
    `holder` varchar(200) NOT NULL,
    `started_at` datetime(6) NOT NULL,
    `finished_at` datetime(6) NOT NULL,
    `checks` integer NOT NULL,
    INDEX `healthjob_cycle_lease` (`lease`, `started_at`)
);

-- +goose Down
DROP TABLE `healthjob_cycle`;
