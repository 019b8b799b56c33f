// Package sqldb holds what the database checks and healthjob's own store
// share: reading database URLs (sqlite:PATH, postgres://…, mysql://…) into a
// database/sql driver name and DSN.
package sqldb
