-- The admin's sessions. The cookie holds a random token; the table holds
-- only its SHA-256, so that a copy of the database logs nobody in.
-- +goose Up
CREATE TABLE "healthjob_session" (
    "token_hash" char(64) NOT NULL PRIMARY KEY,
    "user_id" integer NOT NULL,
    "created_at" timestamp with time zone NOT NULL,
    "expires_at" timestamp with time zone NOT NULL
);
CREATE INDEX "healthjob_session_user" ON "healthjob_session" ("user_id");
CREATE INDEX "healthjob_session_expires" ON "healthjob_session" ("expires_at");

-- +goose Down
DROP TABLE "healthjob_session";
