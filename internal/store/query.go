package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is one stored row. The fields after UpdatedAt are healthjob's
// own columns, empty (and Critical true) on rows Django wrote.
type Record struct {
	ID        int64
	Name      string
	Status    int
	Message   string
	CreatedAt time.Time
	UpdatedAt time.Time
	RunUUID   string
	AppID     string
	Level     string
	Duration  time.Duration
	Critical  bool
}

// Filter selects records; its zero value selects them all. Time ranges are
// half-open, [From, To); a zero end is open.
type Filter struct {
	Status  *int   // 1 passed, 0 failed
	Name    string // the check's name, exactly
	Message string // the message, exactly (the admin's message filter)
	App     string // SYNC_APP_ID of the application that ran it
	Search  string // in name and message, ignoring case (the admin's search, icontains)

	CreatedFrom, CreatedTo time.Time
	UpdatedFrom, UpdatedTo time.Time
}

// IsZero tells whether f selects every record.
func (f Filter) IsZero() bool { return f == Filter{} }

// Query asks for one page of records.
type Query struct {
	Filter
	// Sort is a column (id, name, status, message, created_at, updated_at),
	// with "-" before it for descending; "" is "-created_at". Ties are
	// broken by created_at (after name, status or message), then by id, in
	// the same direction.
	Sort string
	// Limit is the page size: 1 to MaxLimit, 0 for DefaultLimit.
	Limit int
	// After continues a list after the page whose Next it is.
	After string
}

// Page sizes of List.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// Page is one page of records.
type Page struct {
	Records []Record
	Next    string // the Query.After of the next page; "" on the last
}

// SortColumns are the columns a list sorts by.
var SortColumns = []string{"id", "name", "status", "message", "created_at", "updated_at"}

// ErrBadCursor is returned by List for an After that it did not make for
// the same sort.
var ErrBadCursor = errors.New("the cursor does not belong to this list; start from its first page")

const recordColumns = "id, name, status, message, created_at, updated_at, run_uuid, app_id, level, duration_ms, critical"

// order is a sort: the key expressions in order and the direction.
type order struct {
	sort string
	keys []string // SQL expressions
	cols []string // the columns the keys read, for the cursor
	desc bool
}

func (s *DB) order(sort string) (order, error) {
	if sort == "" {
		sort = "-created_at"
	}
	col, desc := strings.CutPrefix(sort, "-")
	o := order{sort: sort, desc: desc}
	switch col {
	case "id":
		o.cols = []string{"id"}
	case "created_at", "updated_at":
		o.cols = []string{col, "id"}
	case "name", "status", "message":
		o.cols = []string{col, "created_at", "id"}
	default:
		return o, fmt.Errorf("cannot sort by %q; want one of %s, with - before it for descending", col, strings.Join(SortColumns, ", "))
	}
	for _, c := range o.cols {
		o.keys = append(o.keys, s.key(c))
	}
	return o, nil
}

// key is the SQL expression a column is sorted and compared by.
func (s *DB) key(col string) string {
	if col == "message" {
		return s.dialect.messageKey
	}
	return col
}

func (o order) by() string {
	dir := " ASC"
	if o.desc {
		dir = " DESC"
	}
	return strings.Join(o.keys, dir+", ") + dir
}

// where builds the condition of f, "" for none, and its arguments.
func (s *DB) where(ctx context.Context, f Filter) (string, []any, error) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Status != nil {
		add("status = ?", *f.Status)
	}
	if f.Name != "" {
		add("name = ?", f.Name)
	}
	if f.Message != "" {
		switch k := s.dialect.messageKey; {
		case k == "message":
			add("message = ?", f.Message)
		case utf8.RuneCountInString(f.Message) < messagePrefix:
			// The index holds the whole of such a message: an equality
			// on it alone lets the planner estimate and use it well.
			add(k+" = ?", f.Message)
		default:
			add(k+" = "+strings.Replace(k, "message", "?", 1)+" AND message = ?", f.Message, f.Message)
		}
	}
	if f.App != "" {
		add("app_id = ?", f.App)
	}
	for _, r := range []struct {
		col      string
		from, to time.Time
	}{{"created_at", f.CreatedFrom, f.CreatedTo}, {"updated_at", f.UpdatedFrom, f.UpdatedTo}} {
		if !r.from.IsZero() {
			add(r.col+" >= ?", s.dialect.time(r.from))
		}
		if !r.to.IsZero() {
			add(r.col+" < ?", s.dialect.time(r.to))
		}
	}
	if f.Search != "" {
		cond, a, err := s.dialect.search(ctx, s, f.Search)
		if err != nil {
			return "", nil, fmt.Errorf("search: %w", err)
		}
		add(cond, a...)
	}
	return strings.Join(conds, " AND "), args, nil
}

// List returns one page of the records q selects, in its order. Pages
// follow each other by keyset (q.After), so that page 1,000 costs what the
// first does.
func (s *DB) List(ctx context.Context, q Query) (Page, error) {
	o, err := s.order(q.Sort)
	if err != nil {
		return Page{}, err
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		return Page{}, fmt.Errorf("limit %d: want 1 to %d", q.Limit, MaxLimit)
	}
	cond, args, err := s.where(ctx, q.Filter)
	if err != nil {
		return Page{}, err
	}
	if q.After != "" {
		after, a, err := s.after(o, q.After)
		if err != nil {
			return Page{}, err
		}
		cond = joinAnd(cond, after)
		args = append(args, a...)
	}
	query := "SELECT " + recordColumns + " FROM " + Table
	if cond != "" {
		query += " WHERE " + cond
	}
	query += " ORDER BY " + o.by() + " LIMIT " + strconv.Itoa(q.Limit+1)
	recs, err := s.records(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list records: %w", err)
	}
	var p Page
	if len(recs) > q.Limit {
		recs = recs[:q.Limit]
		p.Next = s.cursor(o, recs[len(recs)-1])
	}
	p.Records = recs
	return p, nil
}

func joinAnd(a, b string) string {
	if a == "" {
		return b
	}
	return a + " AND " + b
}

// cursor encodes the sort keys of r for the next page.
func (s *DB) cursor(o order, r Record) string {
	vals := []any{o.sort}
	for _, c := range o.cols {
		switch c {
		case "id":
			vals = append(vals, r.ID)
		case "name":
			vals = append(vals, r.Name)
		case "status":
			vals = append(vals, r.Status)
		case "message":
			vals = append(vals, r.Message)
		case "created_at":
			vals = append(vals, r.CreatedAt.Format(time.RFC3339Nano))
		case "updated_at":
			vals = append(vals, r.UpdatedAt.Format(time.RFC3339Nano))
		}
	}
	b, _ := json.Marshal(vals) // strings and numbers only
	return base64.RawURLEncoding.EncodeToString(b)
}

// after decodes a cursor into the condition "past this record in o".
func (s *DB) after(o order, cursor string) (string, []any, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", nil, ErrBadCursor
	}
	var vals []any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if d.Decode(&vals) != nil || len(vals) != len(o.cols)+1 || vals[0] != o.sort {
		return "", nil, ErrBadCursor
	}
	args := make([]any, len(o.cols))
	params := make([]string, len(o.cols))
	for i, c := range o.cols {
		v := vals[i+1]
		params[i] = "?"
		switch c {
		case "id", "status":
			n, ok := v.(json.Number)
			if !ok {
				return "", nil, ErrBadCursor
			}
			if args[i], err = n.Int64(); err != nil {
				return "", nil, ErrBadCursor
			}
		case "name", "message":
			text, ok := v.(string)
			if !ok {
				return "", nil, ErrBadCursor
			}
			args[i] = text
			if c == "message" {
				params[i] = strings.Replace(s.dialect.messageKey, "message", "?", 1)
			}
		case "created_at", "updated_at":
			text, ok := v.(string)
			if !ok {
				return "", nil, ErrBadCursor
			}
			t, err := time.Parse(time.RFC3339Nano, text)
			if err != nil {
				return "", nil, ErrBadCursor
			}
			args[i] = s.dialect.time(t)
		}
	}
	op := ">"
	if o.desc {
		op = "<"
	}
	if s.dialect.rowValues {
		return "(" + strings.Join(o.keys, ", ") + ") " + op + " (" + strings.Join(params, ", ") + ")", args, nil
	}
	// (a, b) < (x, y) as a < x OR (a = x AND b < y), which MySQL serves by
	// index ranges.
	var cond string
	var all []any
	for i := len(o.keys) - 1; i >= 0; i-- {
		if cond == "" {
			cond = o.keys[i] + " " + op + " " + params[i]
			all = []any{args[i]}
			continue
		}
		cond = o.keys[i] + " " + op + " " + params[i] + " OR (" + o.keys[i] + " = " + params[i] + " AND (" + cond + "))"
		all = append([]any{args[i], args[i]}, all...)
	}
	return "(" + cond + ")", all, nil
}

// records runs a query that selects recordColumns.
func (s *DB) records(ctx context.Context, query string, args ...any) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var created, updated any
		var uuid, app, level sql.NullString
		var ms sql.NullFloat64
		var critical sql.NullBool
		if err := rows.Scan(&r.ID, &r.Name, &r.Status, &r.Message, &created, &updated, &uuid, &app, &level, &ms, &critical); err != nil {
			return nil, err
		}
		if r.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if r.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		r.RunUUID, r.AppID, r.Level = uuid.String, app.String, level.String
		r.Duration = time.Duration(ms.Float64 * float64(time.Millisecond)).Round(time.Microsecond)
		r.Critical = critical.Bool || !critical.Valid
		out = append(out, r)
	}
	return out, rows.Err()
}

// Count is how many records a filter selects, as cheaply as the question
// allows.
type Count struct {
	N int64
	// Estimated is set for the whole table of a large store: N is then
	// max(id) - min(id) + 1, read from the primary key's two ends, which
	// retention keeps close (it deletes the oldest rows).
	Estimated bool
	// More is set when a filter selects more than CountLimit records: N is
	// then CountLimit and counting stopped there.
	More bool
}

// CountLimit is where counting a filter's records stops.
const CountLimit = 10000

func (c Count) String() string {
	switch {
	case c.Estimated:
		return "about " + strconv.FormatInt(c.N, 10)
	case c.More:
		return "more than " + strconv.FormatInt(c.N, 10)
	}
	return strconv.FormatInt(c.N, 10)
}

// Count counts the records f selects. It never scans the whole table: the
// whole table of a large store is estimated, and a filter is counted up to
// CountLimit.
func (s *DB) Count(ctx context.Context, f Filter) (Count, error) {
	if f.IsZero() {
		var span int64
		// Two subqueries: SQLite reads a lone min() or max() from the
		// index's end, but scans for both in one.
		q := "SELECT COALESCE((SELECT max(id) FROM " + Table + ") - (SELECT min(id) FROM " + Table + ") + 1, 0)"
		if err := s.db.QueryRowContext(ctx, q).Scan(&span); err != nil {
			return Count{}, fmt.Errorf("count records: %w", err)
		}
		if span > CountLimit {
			return Count{N: span, Estimated: true}, nil
		}
	}
	cond, args, err := s.where(ctx, f)
	if err != nil {
		return Count{}, err
	}
	q := "SELECT count(*) FROM (SELECT 1 AS one FROM " + Table
	if cond != "" {
		q += " WHERE " + cond
	}
	q += " LIMIT " + strconv.Itoa(CountLimit+1) + ") AS matches"
	var n int64
	if err := s.db.QueryRowContext(ctx, s.dialect.rebind(q), args...).Scan(&n); err != nil {
		return Count{}, fmt.Errorf("count records: %w", err)
	}
	if n > CountLimit {
		return Count{N: CountLimit, More: true}, nil
	}
	return Count{N: n}, nil
}

// Latest returns the newest record of each check name, by name, among the
// records of app ("" for every application's). It skips from name to name
// through the name index, so its cost grows with the number of names, not
// of records.
func (s *DB) Latest(ctx context.Context, app string) ([]Record, error) {
	cond, rcond := "", ""
	var args []any
	if app != "" {
		cond, rcond = " AND app_id = ?", " AND r.app_id = ?"
		args = []any{app, app, app}
	}
	q := `WITH RECURSIVE names (name) AS (
		SELECT min(name) FROM ` + Table + ` WHERE 1 = 1` + cond + `
		UNION ALL
		SELECT (SELECT min(name) FROM ` + Table + ` WHERE name > names.name` + cond + `) FROM names WHERE names.name IS NOT NULL
	)
	SELECT ` + recordColumns + ` FROM ` + Table + ` JOIN (
		SELECT (SELECT r.id FROM ` + Table + ` r WHERE r.name = names.name` + rcond + ` ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS latest_id
		FROM names WHERE names.name IS NOT NULL
	) latest ON id = latest.latest_id ORDER BY name`
	if s.dialect.looseGroupBy {
		// MariaDB reads the newest created_at of each name straight from
		// the index ("Using index for group-by") but would scan it whole
		// for each step of the recursive form.
		where := ""
		if app != "" {
			where, args = " WHERE app_id = ?", []any{app, app}
		}
		q = `SELECT ` + recordColumns + ` FROM ` + Table + ` JOIN (
			SELECT name AS latest_name, max(created_at) AS latest_at FROM ` + Table + where + ` GROUP BY name
		) latest ON name = latest_name AND created_at = latest_at` + where + `
		ORDER BY name, id DESC`
	}
	recs, err := s.records(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("latest records: %w", err)
	}
	// A name's runs at the same created_at (the newest wins): keep one.
	out := recs[:0]
	for _, r := range recs {
		if len(out) == 0 || out[len(out)-1].Name != r.Name {
			out = append(out, r)
		}
	}
	return out, nil
}

// Changes returns the status history of the check name (of app, "" for
// every application's) between from and to (zero for open ends): the first
// record of the range and each one whose status differs from the record
// before it, newest first, at most limit.
func (s *DB) Changes(ctx context.Context, name, app string, from, to time.Time, limit int) ([]Record, error) {
	if name == "" {
		return nil, errors.New("status history: no check name")
	}
	f := Filter{Name: name, App: app, CreatedFrom: from, CreatedTo: to}
	cond, args, err := s.where(ctx, f)
	if err != nil {
		return nil, err
	}
	// The statuses come from the name index alone; only the changes are
	// read whole.
	q := `SELECT ` + recordColumns + ` FROM ` + Table + ` JOIN (
		SELECT change_id FROM (
			SELECT id AS change_id, status AS changed, LAG(status) OVER (ORDER BY created_at, id) AS previous
			FROM ` + Table + ` WHERE ` + cond + `
		) history WHERE previous IS NULL OR previous <> changed
	) changes ON id = change_id
	ORDER BY created_at DESC, id DESC LIMIT ` + strconv.Itoa(limit)
	recs, err := s.records(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("status history of %s: %w", name, err)
	}
	return recs, nil
}

// Value is one distinct value of a column with how often it occurs.
type Value struct {
	Value string
	Count int64
}

// DistinctWindow is how many of the newest records Distinct looks at.
const DistinctWindow = 10000

// Distinct returns the values of column (status, name, message or app_id)
// among the newest DistinctWindow records, the most frequent first, at most
// limit: the choices of the admin's filter sidebar, at a cost that does not
// grow with the table.
func (s *DB) Distinct(ctx context.Context, column string, limit int) ([]Value, error) {
	switch column {
	case "status", "name", "message", "app_id":
	default:
		return nil, fmt.Errorf("no distinct values of %q; want status, name, message or app_id", column)
	}
	q := `SELECT ` + column + `, count(*) FROM (
		SELECT ` + column + ` FROM ` + Table + ` ORDER BY created_at DESC, id DESC LIMIT ` + strconv.Itoa(DistinctWindow) + `
	) recent WHERE ` + column + ` IS NOT NULL GROUP BY ` + column + ` ORDER BY count(*) DESC, ` + column + ` LIMIT ` + strconv.Itoa(limit)
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("distinct %s: %w", column, err)
	}
	defer rows.Close()
	var out []Value
	for rows.Next() {
		var v Value
		var raw any
		if err := rows.Scan(&raw, &v.Count); err != nil {
			return nil, fmt.Errorf("distinct %s: %w", column, err)
		}
		switch raw := raw.(type) {
		case []byte:
			v.Value = string(raw)
		default:
			v.Value = fmt.Sprint(raw)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
