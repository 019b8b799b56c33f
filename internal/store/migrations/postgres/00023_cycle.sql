-- The cycles run under an HA lease: which holder (hostname:pid) ran each
-- run, from when to when.
-- +goose Up
CREATE TABLE "healthjob_cycle" (
    "run_uuid" varchar(36) NOT NULL PRIMARY KEY,
    "lease" varchar(200) NOT NULL,
    "holder" varchar(200) NOT NULL,
    "started_at" timestamp with time zone NOT NULL,
    "finished_at" timestamp with time zone NOT NULL,
    "checks" integer NOT NULL
);
CREATE INDEX "healthjob_cycle_lease" ON "healthjob_cycle" ("lease", "started_at");

-- +goose Down
DROP TABLE "healthjob_cycle";
