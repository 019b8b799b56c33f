package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/healthjob/healthjob/internal/store"
)

// scope authorises a read of the status API: an admin session or an API key
// for every app reads them all; a key for one app reads that app. It
// answers the request itself when it returns false.
func (s *Server) scope(w http.ResponseWriter, r *http.Request) (key *store.APIKey, ok bool) {
	if s.cfg.Session != nil && s.cfg.Session(r) {
		return &store.APIKey{App: store.AllApps}, true
	}
	key, err := s.apiKey(r)
	reject := func(code int, err *FieldError) { writeError(w, code, err) }
	switch {
	case err != nil:
		s.authFailure(w, r, err, reject)
		return nil, false
	case key == nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="healthjob"`)
		reject(http.StatusUnauthorized, fieldErr("Authorization", "no API key"))
		return nil, false
	}
	return key, true
}

// appOf returns the {app} of the path if the request may read it.
func (s *Server) appOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	key, ok := s.scope(w, r)
	if !ok {
		return "", false
	}
	app := r.PathValue("app")
	if !key.Allows(app) {
		writeError(w, http.StatusForbidden, fieldErr("app", "the API key is for %s, not %s", quote(key.App), quote(app)))
		return "", false
	}
	return app, true
}

func (s *Server) unavailable(w http.ResponseWriter, err error) {
	s.log.Error("status API: the database failed", "error", err)
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the database is unavailable; retry later"})
}

type appJSON struct {
	App       string    `json:"app"`
	Checks    int       `json:"checks"`
	Failing   int       `json:"failing"`
	CheckedAt time.Time `json:"checked_at"`
}

// apps is GET /v1/apps: the applications the request may read, by name.
func (s *Server) apps(w http.ResponseWriter, r *http.Request) {
	key, ok := s.scope(w, r)
	if !ok {
		return
	}
	only := key.App
	if only == store.AllApps {
		only = ""
	}
	apps, err := s.cfg.Store.Apps(r.Context(), only)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	out := make([]appJSON, len(apps))
	for i, a := range apps {
		out[i] = appJSON{a.App, a.Checks, a.Failing, a.CheckedAt.UTC()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": out})
}

type checkJSON struct {
	Name      string    `json:"name"`
	Status    int       `json:"status"`
	Level     string    `json:"level"`
	Message   string    `json:"message"`
	CheckedAt time.Time `json:"checked_at"`
	ChangedAt time.Time `json:"changed_at"`
	Run       string    `json:"run"`
}

// checks is GET /v1/apps/{app}/checks: each check's latest status and when
// it last changed.
func (s *Server) checks(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appOf(w, r)
	if !ok {
		return
	}
	states, err := s.cfg.Store.CheckStates(r.Context(), app)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	if len(states) == 0 {
		writeError(w, http.StatusNotFound, fieldErr("app", "%s has reported no checks", quote(app)))
		return
	}
	out := make([]checkJSON, len(states))
	for i, c := range states {
		out[i] = checkJSON{c.Name, c.Status, c.Level, c.Message, c.CheckedAt.UTC(), c.ChangedAt.UTC(), c.RunUUID}
	}
	writeJSON(w, http.StatusOK, struct {
		App    string      `json:"app"`
		Checks []checkJSON `json:"checks"`
	}{app, out})
}

// MaxHistory is the largest page of a check's history.
const MaxHistory = 1000

type recordJSON struct {
	ID        int64     `json:"id"`
	Status    int       `json:"status"`
	Level     string    `json:"level"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
	Run       string    `json:"run"`
}

// history is GET /v1/apps/{app}/checks/{name}/history?limit=N&after=CURSOR:
// the check's records, newest first; "next" is the after of the next page.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appOf(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxHistory {
			writeError(w, http.StatusBadRequest, fieldErr("limit", "want a number from 1 to %d, got %s", MaxHistory, quote(v)))
			return
		}
		limit = n
	}
	after := r.URL.Query().Get("after")
	page, err := s.cfg.Store.List(r.Context(), store.Query{
		Filter: store.Filter{App: app, Name: name}, Sort: "-created_at", Limit: limit, After: after,
	})
	switch {
	case errors.Is(err, store.ErrBadCursor):
		writeError(w, http.StatusBadRequest, fieldErr("after", "not a cursor of this history: %s", quote(after)))
		return
	case err != nil:
		s.unavailable(w, err)
		return
	case len(page.Records) == 0 && after == "":
		writeError(w, http.StatusNotFound, fieldErr("name", "%s of %s has no records", quote(name), quote(app)))
		return
	}
	out := make([]recordJSON, len(page.Records))
	for i, rec := range page.Records {
		out[i] = recordJSON{rec.ID, rec.Status, rec.Level, rec.Message, rec.CreatedAt.UTC(), rec.RunUUID}
	}
	writeJSON(w, http.StatusOK, struct {
		App     string       `json:"app"`
		Name    string       `json:"name"`
		Records []recordJSON `json:"records"`
		Next    string       `json:"next"`
	}{app, name, out, page.Next})
}
