-- Indexes for the admin's list at any size: each sort column leads one,
-- followed by (created_at, id), so that a filter on a column lists newest
-- first, a sort by it pages by keyset, and the status history of a check
-- reads only its own rows (from the index alone: it ends with the status).
-- A trigram index (FTS5, kept by triggers, so that Django's own writes stay
-- indexed) answers the search in name and message. Nothing looks records up
-- by run_uuid, and each index slows every write: that one goes.
-- +goose Up
DROP INDEX "healthjob_record_name_created";
DROP INDEX "healthjob_record_status_created";
DROP INDEX "healthjob_record_created";
DROP INDEX "healthjob_record_run";
CREATE INDEX "healthjob_record_created" ON "django_health_check_job_heathcheckjob" ("created_at", "id");
CREATE INDEX "healthjob_record_updated" ON "django_health_check_job_heathcheckjob" ("updated_at", "id");
CREATE INDEX "healthjob_record_name" ON "django_health_check_job_heathcheckjob" ("name", "created_at", "id", "status");
CREATE INDEX "healthjob_record_status" ON "django_health_check_job_heathcheckjob" ("status", "created_at", "id");
CREATE INDEX "healthjob_record_message" ON "django_health_check_job_heathcheckjob" ("message", "created_at", "id");
CREATE INDEX "healthjob_record_app" ON "django_health_check_job_heathcheckjob" ("app_id", "created_at", "id");
CREATE VIRTUAL TABLE "healthjob_record_search" USING fts5(
    name, message,
    content = 'django_health_check_job_heathcheckjob', content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO "healthjob_record_search" ("healthjob_record_search") VALUES ('rebuild');
-- +goose StatementBegin
CREATE TRIGGER "healthjob_record_search_insert" AFTER INSERT ON "django_health_check_job_heathcheckjob" BEGIN
    INSERT INTO "healthjob_record_search" (rowid, name, message) VALUES (new.id, new.name, new.message);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER "healthjob_record_search_delete" AFTER DELETE ON "django_health_check_job_heathcheckjob" BEGIN
    INSERT INTO "healthjob_record_search" ("healthjob_record_search", rowid, name, message) VALUES ('delete', old.id, old.name, old.message);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER "healthjob_record_search_update" AFTER UPDATE OF name, message ON "django_health_check_job_heathcheckjob" BEGIN
    INSERT INTO "healthjob_record_search" ("healthjob_record_search", rowid, name, message) VALUES ('delete', old.id, old.name, old.message);
    INSERT INTO "healthjob_record_search" (rowid, name, message) VALUES (new.id, new.name, new.message);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER "healthjob_record_search_update";
DROP TRIGGER "healthjob_record_search_delete";
DROP TRIGGER "healthjob_record_search_insert";
DROP TABLE "healthjob_record_search";
DROP INDEX "healthjob_record_app";
DROP INDEX "healthjob_record_message";
DROP INDEX "healthjob_record_status";
DROP INDEX "healthjob_record_name";
DROP INDEX "healthjob_record_updated";
DROP INDEX "healthjob_record_created";
DROP INDEX "healthjob_record_run";
CREATE INDEX "healthjob_record_run" ON "django_health_check_job_heathcheckjob" ("run_uuid");
CREATE INDEX "healthjob_record_created" ON "django_health_check_job_heathcheckjob" ("created_at");
CREATE INDEX "healthjob_record_status_created" ON "django_health_check_job_heathcheckjob" ("status", "created_at");
CREATE INDEX "healthjob_record_name_created" ON "django_health_check_job_heathcheckjob" ("name", "created_at");
