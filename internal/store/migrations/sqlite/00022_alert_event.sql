-- The history of the alert states: one row per change, marked silenced
-- when a maintenance window held its notifications back.
-- +goose Up
CREATE TABLE "healthjob_alert_event" (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "app_id" varchar(100) NOT NULL,
    "name" varchar(50) NOT NULL,
    "state" varchar(16) NOT NULL,
    "previous" varchar(16) NOT NULL,
    "message" text NOT NULL,
    "run_uuid" varchar(36) NOT NULL,
    "created_at" datetime NOT NULL,
    "silenced" boolean NOT NULL
);
CREATE INDEX "healthjob_alert_event_check" ON "healthjob_alert_event" ("app_id", "name", "created_at");

-- +goose Down
DROP TABLE "healthjob_alert_event";
