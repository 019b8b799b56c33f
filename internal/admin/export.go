package admin

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthjob/healthjob/internal/store"
)

// exportBatch is how many records an export reads at a time.
const exportBatch = 1000

// exportTime is how an export writes a time: UTC, to the microsecond.
const exportTime = "2006-01-02T15:04:05.000000Z07:00"

var exportColumns = []string{"id", "name", "status", "message", "created_at", "updated_at",
	"run_uuid", "duration_ms", "app_id", "level", "critical"}

// exported is a record in a JSON export; the names are the columns'.
type exported struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Status     int     `json:"status"`
	Message    string  `json:"message"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
	RunUUID    string  `json:"run_uuid"`
	DurationMS float64 `json:"duration_ms"`
	AppID      string  `json:"app_id"`
	Level      string  `json:"level"`
	Critical   bool    `json:"critical"`
}

func exportOf(r store.Record) exported {
	return exported{
		ID: r.ID, Name: r.Name, Status: r.Status, Message: r.Message,
		CreatedAt: r.CreatedAt.UTC().Format(exportTime), UpdatedAt: r.UpdatedAt.UTC().Format(exportTime),
		RunUUID: r.RunUUID, DurationMS: float64(r.Duration.Microseconds()) / 1000, AppID: r.AppID, Level: r.Level, Critical: r.Critical,
	}
}

// export streams every record the list's filters select, in its order, as
// CSV or JSON, reading them by keyset a batch at a time, so that a large
// export holds one batch in memory and never times out while it flows.
func (h *Handler) export(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := parseList(r.URL.Query())
		if len(st.errs) > 0 {
			h.message(w, r, http.StatusBadRequest, "Bad filter", strings.Join(st.errs, " "))
			return
		}
		q := st.query
		q.After, q.Limit = "", exportBatch
		page, err := h.store.List(r.Context(), q)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		name := "healthjob-records-" + h.now().UTC().Format("20060102T150405Z") + "." + format
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		write := writeCSV
		if format == "json" {
			write = writeJSON
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		}
		rc := http.NewResponseController(w)
		next := func() ([]store.Record, error) {
			if page.Records == nil {
				return nil, nil
			}
			recs := page.Records
			page.Records = nil
			if page.Next != "" {
				if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil && !errors.Is(err, http.ErrNotSupported) {
					return nil, err
				}
				q.After = page.Next
				if page, err = h.store.List(r.Context(), q); err != nil {
					return nil, err
				}
			}
			return recs, nil
		}
		if err := write(w, next); err != nil {
			// The status is sent: all that is left is to stop and say why.
			h.log.Warn("admin: export stopped", "format", format, "error", err)
		}
	}
}

func writeCSV(w http.ResponseWriter, next func() ([]store.Record, error)) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(exportColumns); err != nil {
		return err
	}
	for {
		recs, err := next()
		if err != nil || recs == nil {
			cw.Flush()
			return errors.Join(err, cw.Error())
		}
		for _, rec := range recs {
			e := exportOf(rec)
			row := []string{strconv.FormatInt(e.ID, 10), cell(e.Name), strconv.Itoa(e.Status), cell(e.Message), e.CreatedAt, e.UpdatedAt,
				e.RunUUID, strconv.FormatFloat(e.DurationMS, 'f', -1, 64), cell(e.AppID), e.Level, strconv.FormatBool(e.Critical)}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
}

// cell keeps a spreadsheet from running a text cell as a formula: one that
// starts with = + - @ gets a leading quote (OWASP's CSV injection advice).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeJSON(w http.ResponseWriter, next func() ([]store.Record, error)) error {
	sep := "[\n"
	for {
		recs, err := next()
		if err != nil {
			return err
		}
		if recs == nil {
			if sep == "[\n" {
				_, err = w.Write([]byte("[]\n"))
			} else {
				_, err = w.Write([]byte("\n]\n"))
			}
			return err
		}
		var b strings.Builder
		for _, rec := range recs {
			line, err := json.Marshal(exportOf(rec))
			if err != nil {
				return err
			}
			b.WriteString(sep)
			b.Write(line)
			sep = ",\n"
		}
		if _, err := w.Write([]byte(b.String())); err != nil {
			return err
		}
	}
}
