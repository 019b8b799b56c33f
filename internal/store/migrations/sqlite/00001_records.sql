-- The records table exactly as Django creates it for the HeathCheckJob model,
-- kept when a Django project already has it.
-- +goose Up
CREATE TABLE IF NOT EXISTS "django_health_check_job_heathcheckjob" (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(50) NOT NULL,
    "status" integer NOT NULL,
    "message" text NOT NULL,
    "created_at" datetime NOT NULL,
    "updated_at" datetime NOT NULL
);

-- +goose Down
DROP TABLE "django_health_check_job_heathcheckjob";
