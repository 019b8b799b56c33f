-- The runs serve has stored, by uuid: the payload's idempotency key. The
-- primary key makes a payload stored once however often it is delivered.
-- +goose Up
CREATE TABLE "healthjob_run" (
    "uuid" char(36) NOT NULL PRIMARY KEY,
    "app_id" varchar(100) NOT NULL,
    "created_at" datetime NOT NULL,
    "received_at" datetime NOT NULL,
    "checks" integer NOT NULL
) WITHOUT ROWID;
CREATE INDEX "healthjob_run_created" ON "healthjob_run" ("created_at");

-- +goose Down
DROP TABLE "healthjob_run";
