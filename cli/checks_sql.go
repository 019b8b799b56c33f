package cli

import (
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/migrations"
	"github.com/healthjob/healthjob/checks/mysql"
	"github.com/healthjob/healthjob/checks/postgres"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/checks/sqlite"
	"github.com/healthjob/healthjob/internal/config"
)

// sqlCheckTypes are the check types of this group; see checkTypes.
var sqlCheckTypes = map[string]checkType{
	"db":           dbCheck(sqldb.Backend),
	"db_heartbeat": dbCheck(sqldb.HeartBeat),
	"migrations":   migrationsCheck,
}

// defaultConnMaxAge is how long a db or db_heartbeat check keeps its
// connection unless conn_max_age says otherwise.
const defaultConnMaxAge = 60 * time.Second

// dbEngines build a db or db_heartbeat check by the driver of its URL.
var dbEngines = map[string]func(url, alias, name string, kind sqldb.Kind, connMaxAge time.Duration) (*sqldb.Check, error){
	sqldb.DriverPostgres: func(url, alias, name string, kind sqldb.Kind, connMaxAge time.Duration) (*sqldb.Check, error) {
		return postgres.New(postgres.Config{URL: url, Alias: alias, Name: name, Kind: kind, ConnMaxAge: connMaxAge})
	},
	sqldb.DriverMySQL: func(url, alias, name string, kind sqldb.Kind, connMaxAge time.Duration) (*sqldb.Check, error) {
		return mysql.New(mysql.Config{URL: url, Alias: alias, Name: name, Kind: kind, ConnMaxAge: connMaxAge})
	},
	sqldb.DriverSQLite: func(url, alias, name string, kind sqldb.Kind, connMaxAge time.Duration) (*sqldb.Check, error) {
		return sqlite.New(sqlite.Config{URL: url, Alias: alias, Name: name, Kind: kind, ConnMaxAge: connMaxAge})
	},
}

// dbCheck builds a db (Backend) or db_heartbeat (HeartBeat) check. Its
// options: url (default DATABASE_URL, healthjob's own store), alias, and
// conn_max_age, how long the check keeps its connection between runs
// (default 60s; 0 connects afresh for every run).
func dbCheck(kind sqldb.Kind) checkType {
	return func(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
		opts := struct {
			URL        string          `yaml:"url"`
			Alias      string          `yaml:"alias"`
			ConnMaxAge config.Duration `yaml:"conn_max_age"`
		}{URL: cfg.DatabaseURL, Alias: sqldb.DefaultAlias, ConnMaxAge: config.Duration(defaultConnMaxAge)}
		if err := spec.Decode(&opts); err != nil {
			return nil, err
		}
		driver, _, err := sqldb.ParseURL(opts.URL)
		if err != nil {
			return nil, spec.Errorf("url: %v", err)
		}
		if name := sqldb.DefaultName(kind, opts.Alias); spec.Name == "" && len([]rune(name)) > healthjob.MaxNameLength {
			return nil, spec.Errorf("alias: %q makes the name %s longer than %d characters; shorten it or set name", opts.Alias, name, healthjob.MaxNameLength)
		}
		if err := checkConnMaxAge(spec, opts.ConnMaxAge); err != nil {
			return nil, err
		}
		c, err := dbEngines[driver](opts.URL, opts.Alias, spec.Name, kind, opts.ConnMaxAge.D())
		if err != nil {
			return nil, spec.Errorf("url: %v", err)
		}
		return c, nil
	}
}

// migrationsCheck builds a migrations check. Its options: url (default
// DATABASE_URL), format (goose, migrate or django), dir (goose, migrate),
// apps and dirs (django), table.
func migrationsCheck(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
	opts := struct {
		URL    string            `yaml:"url"`
		Format string            `yaml:"format"`
		Dir    string            `yaml:"dir"`
		Apps   map[string]string `yaml:"apps"`
		Dirs   []string          `yaml:"dirs"`
		Table  string            `yaml:"table"`
	}{URL: cfg.DatabaseURL}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	if _, _, err := sqldb.ParseURL(opts.URL); err != nil {
		return nil, spec.Errorf("url: %v", err)
	}
	c, err := migrations.New(migrations.Config{
		Name: spec.Name, URL: opts.URL, Format: migrations.Format(opts.Format),
		Dir: opts.Dir, Apps: opts.Apps, Dirs: opts.Dirs, Table: opts.Table,
	})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}
