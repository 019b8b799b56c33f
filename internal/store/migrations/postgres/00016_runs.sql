-- The runs serve has stored, by uuid: the payload's idempotency key. The
-- primary key makes a payload stored once however often it is delivered,
-- to however many replicas.
-- +goose Up
CREATE TABLE "healthjob_run" (
    "uuid" uuid NOT NULL PRIMARY KEY,
    "app_id" varchar(100) NOT NULL,
    "created_at" timestamp with time zone NOT NULL,
    "received_at" timestamp with time zone NOT NULL,
    "checks" integer NOT NULL
);
CREATE INDEX "healthjob_run_created" ON "healthjob_run" ("created_at");

-- +goose Down
DROP TABLE "healthjob_run";
