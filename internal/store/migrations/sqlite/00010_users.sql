-- The admin's users: a unique name and a bcrypt hash of the password.
-- +goose Up
CREATE TABLE "healthjob_user" (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "username" varchar(150) NOT NULL UNIQUE,
    "password" varchar(128) NOT NULL,
    "is_superuser" bool NOT NULL,
    "created_at" datetime NOT NULL,
    "last_login" datetime NULL
);

-- +goose Down
DROP TABLE "healthjob_user";
