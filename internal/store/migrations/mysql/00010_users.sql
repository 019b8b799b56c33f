-- The admin's users: a unique name and a bcrypt hash of the password.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_user` (
    `id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY,
    `username` varchar(150) NOT NULL UNIQUE,
    `password` varchar(128) NOT NULL,
    `is_superuser` bool NOT NULL,
    `created_at` datetime(6) NOT NULL,
    `last_login` datetime(6) NULL
);

-- +goose Down
DROP TABLE `healthjob_user`;
