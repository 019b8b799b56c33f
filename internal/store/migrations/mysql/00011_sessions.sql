-- The admin's sessions. The cookie holds a random token; the table holds
-- only its SHA-256, so that a copy of the database logs nobody in.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_session` (
    `token_hash` char(64) NOT NULL PRIMARY KEY,
    `user_id` integer NOT NULL,
    `created_at` datetime(6) NOT NULL,
    `expires_at` datetime(6) NOT NULL,
    INDEX `healthjob_session_user` (`user_id`),
    INDEX `healthjob_session_expires` (`expires_at`)
);

-- +goose Down
DROP TABLE `healthjob_session`;
