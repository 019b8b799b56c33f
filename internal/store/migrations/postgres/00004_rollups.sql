-- Hourly roll-ups per check and application, kept longer than the records:
-- runs, failures and durations, so that uptime over a year is one small
-- query. healthjob_rollup_state holds the hour up to which they are complete.
-- +goose Up
CREATE TABLE "healthjob_rollup_hourly" (
    "name" varchar(50) NOT NULL,
    "app_id" varchar(100) NOT NULL DEFAULT '',
    "bucket" timestamp with time zone NOT NULL,
    "runs" bigint NOT NULL,
    "failures" bigint NOT NULL,
    "duration_min" real NULL,
    "duration_max" real NULL,
    "duration_sum" double precision NOT NULL,
    "duration_count" bigint NOT NULL,
    PRIMARY KEY ("name", "app_id", "bucket")
);
CREATE INDEX "healthjob_rollup_bucket" ON "healthjob_rollup_hourly" ("bucket");
CREATE TABLE "healthjob_rollup_state" (
    "id" integer NOT NULL PRIMARY KEY,
    "complete_until" varchar(32) NOT NULL
);

-- +goose Down
DROP TABLE "healthjob_rollup_state";
DROP TABLE "healthjob_rollup_hourly";
