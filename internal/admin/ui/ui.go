// Package ui holds the admin's templates and static files, embedded in the
// binary so that the admin works offline. The templates are parsed once,
// when the package loads; each static file is served under a URL carrying
// a hash of its content, so that browsers keep it for a year and never use
// a stale one.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.html static/*
var files embed.FS

// StaticPrefix is where the static files are served, below the admin.
const StaticPrefix = "/admin/static/"

type asset struct {
	url, ctype string
	body       []byte
}

// The assets and pages are read at first use, not at start-up: every
// command of the binary links them, few serve them.
var (
	assets = sync.OnceValue(loadAssets)
	pages  = sync.OnceValue(parsePages)
)

// Pages are the page templates; each one fills the blocks of layout.html.
var Pages = []string{"login", "list", "change", "history", "delete", "dashboard", "message"}

func loadAssets() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(files, "static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		body, err := fs.ReadFile(files, "static/"+e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = asset{
			url:   StaticPrefix + hex.EncodeToString(sum[:6]) + "/" + e.Name(),
			ctype: mime.TypeByExtension(path.Ext(e.Name())),
			body:  body,
		}
	}
	return out
}

func parsePages() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range Pages {
		t := template.New(name).Funcs(funcs)
		out[name] = template.Must(t.ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}

// Asset returns the URL of the static file name; it panics for a file that
// is not there, which the template tests catch.
func Asset(name string) string {
	a, ok := assets()[name]
	if !ok {
		panic(fmt.Sprintf("ui: no static file %q", name))
	}
	return a.url
}

// Execute renders page with data.
func Execute(w io.Writer, page string, data any) error {
	t, ok := pages()[page]
	if !ok {
		return fmt.Errorf("ui: no page %q", page)
	}
	return t.ExecuteTemplate(w, "layout", data)
}

// Static serves GET StaticPrefix{hash}/{name}; a hash that is not the
// file's current one is not found, so that no stale copy is cached.
func Static(w http.ResponseWriter, r *http.Request) {
	a, ok := assets()[r.PathValue("name")]
	if !ok || a.url != r.URL.Path {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// TimeLayout is how the pages show a time (always UTC).
const TimeLayout = "2006-01-02 15:04:05"

var funcs = template.FuncMap{
	"asset": Asset,
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format(TimeLayout)
	},
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"span": Span,
	"ms": func(d time.Duration) string {
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', -1, 64) + " ms"
	},
	"percent": Percent,
	"inc":     func(i int) int { return i + 1 },
}

// Span writes a length of time as people say it: "45 s", "3 min",
// "2 h 5 min", "3 d 4 h".
func Span(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return strconv.Itoa(h) + " h"
		}
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return strconv.Itoa(days) + " d"
	}
	return strconv.Itoa(days) + " d " + strconv.Itoa(h) + " h"
}

// Percent writes a share such as uptime with the digits that matter:
// "100%", "99.95%", "42.1%"; never rounds a failure up to 100%.
func Percent(share float64) string {
	if share >= 1 {
		return "100%"
	}
	p := share * 100
	for _, digits := range []int{1, 2, 3} {
		s := strconv.FormatFloat(p, 'f', digits, 64)
		if s != "100."+strings.Repeat("0", digits) {
			return strings.TrimSuffix(strings.TrimRight(s, "0"), ".") + "%"
		}
	}
	return "99.999%"
}
