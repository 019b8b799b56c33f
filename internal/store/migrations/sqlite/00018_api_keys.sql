-- serve's API keys, one application each ("*" for all): the SHA-256 of the
-- key, never the key, and its first characters to tell keys apart.
-- +goose Up
CREATE TABLE "healthjob_api_key" (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "app_id" varchar(100) NOT NULL,
    "prefix" varchar(16) NOT NULL,
    "hash" char(64) NOT NULL UNIQUE,
    "created_at" datetime NOT NULL,
    "revoked_at" datetime NULL
);

-- +goose Down
DROP TABLE "healthjob_api_key";
