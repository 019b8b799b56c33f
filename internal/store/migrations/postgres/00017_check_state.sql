-- The current status of each check of each application that reports to
-- serve, kept up to date by every payload: what the status API answers
-- without reading the records. changed_at is when the status last changed.
-- +goose Up
CREATE TABLE "healthjob_check_state" (
    "app_id" varchar(100) NOT NULL,
    "name" varchar(50) NOT NULL,
    "status" integer NOT NULL,
    "message" text NOT NULL,
    "level" varchar(16) NOT NULL,
    "run_uuid" uuid NOT NULL,
    "checked_at" timestamp with time zone NOT NULL,
    "changed_at" timestamp with time zone NOT NULL,
    PRIMARY KEY ("app_id", "name")
);

-- +goose Down
DROP TABLE "healthjob_check_state";
