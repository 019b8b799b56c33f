-- A trigram index for the admin's search (icontains in name and message),
-- when the pg_trgm extension is there or may be created (it is trusted from
-- PostgreSQL 13: the database's owner may). Without it the search scans, and
-- nothing else changes. The operator class is named with the extension's
-- schema, wherever that is.
-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    ext_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'healthjob: no pg_trgm (%), the search will scan', SQLERRM;
    END;
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX "healthjob_record_search" ON "django_health_check_job_heathcheckjob" USING gin ("name" %1$I.gin_trgm_ops, "message" %1$I.gin_trgm_ops)', ext_schema);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS "healthjob_record_search";
