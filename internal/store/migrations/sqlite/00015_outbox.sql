-- The outbox: payloads waiting to leave the process, oldest first, per kind
-- ("sync": for the monitoring server; "persist": runs waiting for a records
-- database that is down) and application. AUTOINCREMENT never reuses an id,
-- so the order holds across deletes.
-- +goose Up
CREATE TABLE "healthjob_outbox" (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" varchar(16) NOT NULL,
    "app_id" varchar(100) NOT NULL,
    "run_uuid" char(36) NOT NULL,
    "payload" blob NOT NULL,
    "created_at" datetime NOT NULL
);
CREATE INDEX "healthjob_outbox_queue" ON "healthjob_outbox" ("kind", "app_id", "id");

-- +goose Down
DROP TABLE "healthjob_outbox";
