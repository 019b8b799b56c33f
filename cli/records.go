package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/store"
)

func runRecords(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "records", "[--config FILE] [--status 0|1] [--name NAME] [--message TEXT] [--app ID] [--search TEXT]\n"+
		"       [--since WHEN] [--until WHEN] [--sort [-]COLUMN] [--limit N] [--after CURSOR] [--latest] [--format table|json|csv]")
	status := f.String("status", "", "only records of `STATUS`: 1 passed, 0 failed")
	name := f.String("name", "", "only records of the check `NAME`")
	message := f.String("message", "", "only records whose message is exactly `TEXT`")
	app := f.String("app", "", "only records of the application `ID` (its SYNC_APP_ID)")
	search := f.String("search", "", "only records whose name or message contains `TEXT`, ignoring case")
	since := f.String("since", "", "only records created at or after `WHEN`: a time ago (30m, 1h, 7d) or a UTC time (2006-01-02, 2006-01-02T15:04:05Z)")
	until := f.String("until", "", "only records created before `WHEN`, as --since")
	sort := f.String("sort", "-created_at", "sort by `COLUMN`: id, name, status, message, created_at or updated_at; - before it for descending")
	limit := f.Int("limit", 50, "print at most `N` records")
	after := f.String("after", "", "print the page after the one that ended with `CURSOR` (printed on stderr)")
	latest := f.Bool("latest", false, "print the newest record of each check (of the --app), by name")
	format := f.String("format", "table", "output `format`: table, json or csv")
	if err := f.parse(args); err != nil {
		return err
	}
	q := store.Query{Sort: *sort, Limit: *limit, After: *after, Filter: store.Filter{
		Name: *name, Message: *message, App: *app, Search: *search,
	}}
	now := time.Now()
	var err error
	switch {
	case *status != "" && *status != "0" && *status != "1":
		return usageErr(fmt.Errorf("--status: want 0 (failed) or 1 (passed), got %q", *status))
	case *limit < 1 || *limit > store.MaxLimit:
		return usageErr(fmt.Errorf("--limit: want 1 to %d, got %d", store.MaxLimit, *limit))
	case !strings.Contains(",table,json,csv,", ","+*format+","):
		return usageErr(fmt.Errorf("--format: want table, json or csv, got %q", *format))
	case !sortable(*sort):
		return usageErr(fmt.Errorf("--sort: want id, name, status, message, created_at or updated_at, with - before it for descending; got %q", *sort))
	}
	if *status != "" {
		s := int((*status)[0] - '0')
		q.Status = &s
	}
	if q.CreatedFrom, err = when(*since, now); err != nil {
		return usageErr(fmt.Errorf("--since: %v", err))
	}
	if q.CreatedTo, err = when(*until, now); err != nil {
		return usageErr(fmt.Errorf("--until: %v", err))
	}
	if *latest && (q.Filter != store.Filter{App: *app} || *after != "") {
		return usageErr(errors.New("--latest prints one record per check; it combines only with --app and --format"))
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	if err := existingStore(cfg); err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	var p store.Page
	if *latest {
		p.Records, err = db.Latest(ctx, *app)
	} else {
		p, err = db.List(ctx, q)
	}
	if errors.Is(err, store.ErrBadCursor) {
		return usageErr(fmt.Errorf("--after: %v", err))
	}
	if err != nil {
		return err
	}
	if err := printRecords(e.stdout, *format, p.Records); err != nil {
		return err
	}
	if p.Next != "" {
		fmt.Fprintf(e.stderr, "more records: add --after %s\n", p.Next)
	}
	return nil
}

func sortable(sort string) bool {
	for _, c := range store.SortColumns {
		if sort == c || sort == "-"+c {
			return true
		}
	}
	return false
}

// when reads a --since or --until: a duration before now or a UTC time.
func when(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := config.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("want a time ago such as 1h or 7d, got %q", s)
		}
		return now.Add(-d.D()), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a time ago (30m, 1h, 7d) or a UTC time (2006-01-02, 2006-01-02T15:04:05Z), got %q", s)
}

// record is a record as json and csv print it.
type record struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Status     int     `json:"status"`
	Message    string  `json:"message"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
	RunUUID    string  `json:"run_uuid,omitempty"`
	AppID      string  `json:"app_id,omitempty"`
	Level      string  `json:"level,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	Critical   bool    `json:"critical"`
}

// recordTime renders a stored time in UTC with microseconds, as Django's
// serializers do.
const recordTime = "2006-01-02T15:04:05.000000Z"

func newRecord(r store.Record) record {
	return record{
		ID: r.ID, Name: r.Name, Status: r.Status, Message: r.Message,
		CreatedAt: r.CreatedAt.UTC().Format(recordTime), UpdatedAt: r.UpdatedAt.UTC().Format(recordTime),
		RunUUID: r.RunUUID, AppID: r.AppID, Level: r.Level,
		DurationMS: float64(r.Duration.Microseconds()) / 1000, Critical: r.Critical,
	}
}

func printRecords(w io.Writer, format string, recs []store.Record) error {
	switch format {
	case "json":
		out := make([]record, len(recs))
		for i, r := range recs {
			out[i] = newRecord(r)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		c := csv.NewWriter(w)
		c.Write([]string{"id", "name", "status", "message", "created_at", "updated_at", "run_uuid", "app_id", "level", "duration_ms", "critical"})
		for _, r := range recs {
			o := newRecord(r)
			c.Write([]string{strconv.FormatInt(o.ID, 10), o.Name, strconv.Itoa(o.Status), o.Message, o.CreatedAt, o.UpdatedAt,
				o.RunUUID, o.AppID, o.Level, strconv.FormatFloat(o.DurationMS, 'f', -1, 64), strconv.FormatBool(o.Critical)})
		}
		c.Flush()
		return c.Error()
	}
	// The admin's columns; one line per record.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tMESSAGE\tCREATED_AT\tUPDATED_AT")
	line := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for _, r := range recs {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Name, r.Status, line.Replace(r.Message),
			r.CreatedAt.UTC().Format(time.RFC3339), r.UpdatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
