-- The hour up to which the roll-ups are complete.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_rollup_state` (
    `id` integer NOT NULL PRIMARY KEY,
    `complete_until` varchar(32) NOT NULL
);

-- +goose Down
DROP TABLE `healthjob_rollup_state`;
