-- serve's API keys, one application each ("*" for all): the SHA-256 of the
-- key, never the key, and its first characters to tell keys apart.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_api_key` (
    `id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY,
    `app_id` varchar(100) NOT NULL,
    `prefix` varchar(16) NOT NULL,
    `hash` char(64) NOT NULL UNIQUE,
    `created_at` datetime(6) NOT NULL,
    `revoked_at` datetime(6) NULL
);

-- +goose Down
DROP TABLE `healthjob_api_key`;
