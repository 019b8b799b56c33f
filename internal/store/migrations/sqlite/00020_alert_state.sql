-- The alert state of each check of each application: ok, warning or
-- failing after the failure and success thresholds, the results in a row
-- that move it, and when it began. Kept across restarts and shared by the
-- monitors of one application under HA. The check "heartbeat" is serve's
-- "app silent" state.
-- +goose Up
CREATE TABLE "healthjob_alert_state" (
    "app_id" varchar(100) NOT NULL,
    "name" varchar(50) NOT NULL,
    "state" varchar(16) NOT NULL,
    "fails" integer NOT NULL,
    "passes" integer NOT NULL,
    "since" datetime NOT NULL,
    "message" text NOT NULL,
    "run_uuid" varchar(36) NOT NULL,
    "checked_at" datetime NOT NULL,
    PRIMARY KEY ("app_id", "name")
) WITHOUT ROWID;

-- +goose Down
DROP TABLE "healthjob_alert_state";
