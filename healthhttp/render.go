package healthhttp

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/healthjob/healthjob"
)

// format is one way to render the results.
type format struct {
	name        string // the value of ?format=
	mediaType   string // what Accept asks it by
	contentType string
	always200   bool // feed readers and scrapers expect 200 whatever the checks say
	render      func(*view) ([]byte, error)
}

// formats in the order of preference when Accept leaves the choice open:
// */* and text/* get HTML, application/* JSON, as in django-health-check.
var formats = []*format{
	{name: "html", mediaType: "text/html", contentType: "text/html; charset=utf-8", render: renderHTML},
	{name: "json", mediaType: "application/json", contentType: "application/json", render: renderJSON},
	{name: "text", mediaType: "text/plain", contentType: "text/plain; charset=utf-8", render: renderText},
	{name: "html", mediaType: "application/xhtml+xml", contentType: "text/html; charset=utf-8", render: renderHTML},
	{name: "atom", mediaType: "application/atom+xml", contentType: "application/atom+xml; charset=utf-8", always200: true, render: renderAtom},
	{name: "rss", mediaType: "application/rss+xml", contentType: "application/rss+xml; charset=utf-8", always200: true, render: renderRSS},
	{name: "openmetrics", mediaType: "application/openmetrics-text", contentType: "application/openmetrics-text; version=1.0.0; charset=utf-8", always200: true, render: renderOpenMetrics},
}

// offers are the formats' media types, in their order.
var offers = func() []string {
	types := make([]string, len(formats))
	for i, f := range formats {
		types[i] = f.mediaType
	}
	return types
}()

// The 406 answers.
const (
	notAcceptable = "Not Acceptable: Supported content types: text/html, application/json, text/plain, application/atom+xml, application/rss+xml, application/openmetrics-text\n"
	unknownFormat = "Not Acceptable: unknown format %q; supported formats: html, json, text, atom, rss, openmetrics\n"
)

// chooseFormat picks the format by ?format=, else by the Accept header. It
// returns nil and the 406 body when none fits.
func chooseFormat(r *http.Request) (*format, string) {
	if name := r.URL.Query().Get("format"); name != "" {
		for _, f := range formats {
			if f.name == name {
				return f, ""
			}
		}
		return nil, fmt.Sprintf(unknownFormat, name)
	}
	if i := negotiate(strings.Join(r.Header.Values("Accept"), ","), offers); i >= 0 {
		return formats[i], ""
	}
	return nil, notAcceptable
}

// statusOf is a check's status as the text and HTML formats show it: "OK",
// or the status text when the check did not simply work.
func statusOf(c healthjob.Result) string {
	if c.Level == healthjob.LevelOK {
		return "OK"
	}
	return c.Message
}

func renderText(v *view) ([]byte, error) {
	var b bytes.Buffer
	for _, c := range v.run.Checks {
		fmt.Fprintf(&b, "%s: %s\n", c.Name, oneLine(statusOf(c)))
	}
	return b.Bytes(), nil
}

// detail is a check in the detailed JSON form.
type detail struct {
	Status      string          `json:"status"`
	Level       healthjob.Level `json:"level"`
	Passed      bool            `json:"passed"`
	Critical    bool            `json:"critical"`
	Duration    float64         `json:"duration_seconds"`
	CheckedAt   time.Time       `json:"checked_at"`
	LastSuccess *time.Time      `json:"last_success"`
}

// renderJSON writes django-health-check's {"<name>": "<status text>"}, or
// with ?detail=1 {"<name>": {"status": …, "duration_seconds": …, …}}.
func renderJSON(v *view) ([]byte, error) {
	var out any
	if v.detail {
		m := make(map[string]detail, len(v.run.Checks))
		for _, c := range v.run.Checks {
			d := detail{Status: c.Message, Level: c.Level, Passed: c.Passed(), Critical: c.Critical,
				Duration: c.Duration.Seconds(), CheckedAt: v.run.Timestamp.UTC()}
			if last := v.history[c.Name].lastSuccess; !last.IsZero() {
				last = last.UTC()
				d.LastSuccess = &last
			}
			m[c.Name] = d
		}
		out = m
	} else {
		m := make(map[string]string, len(v.run.Checks))
		for _, c := range v.run.Checks {
			m[c.Name] = c.Message
		}
		out = m
	}
	// Unescaped like Django's JsonResponse: the answer is never sniffed as HTML (nosniff).
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(out)
	return b.Bytes(), err
}

//go:embed status.html
var statusHTML string

var statusPage = template.Must(template.New("status").Parse(statusHTML))

// htmlRow is a check as the status page shows it.
type htmlRow struct {
	Name, Status, Timing string
	Passed, Warning      bool
}

func renderHTML(v *view) ([]byte, error) {
	data := struct {
		OK        bool
		Checks    []htmlRow
		CheckedAt string
	}{OK: v.run.OK(), CheckedAt: v.run.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC")}
	for _, c := range v.run.Checks {
		data.Checks = append(data.Checks, htmlRow{
			Name: c.Name, Status: statusOf(c), Timing: fmt.Sprintf("%.3f", c.Duration.Seconds()),
			Passed: c.Passed(), Warning: c.Level == healthjob.LevelWarning,
		})
	}
	var b bytes.Buffer
	err := statusPage.Execute(&b, data)
	return b.Bytes(), err
}

// renderOpenMetrics writes the metrics of django-health-check's
// ?format=openmetrics under the same names, so that its dashboards work.
func renderOpenMetrics(v *view) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# HELP django_health_check_status Health check status (1 = healthy, 0 = unhealthy)\n")
	b.WriteString("# TYPE django_health_check_status gauge\n")
	for _, c := range v.run.Checks {
		fmt.Fprintf(&b, "django_health_check_status{check=%s} %d\n", labelValue(c.Name), c.Status)
	}
	b.WriteString("# HELP django_health_check_response_time_seconds Health check response time in seconds\n")
	b.WriteString("# TYPE django_health_check_response_time_seconds gauge\n")
	for _, c := range v.run.Checks {
		fmt.Fprintf(&b, "django_health_check_response_time_seconds{check=%s} %.6f\n", labelValue(c.Name), c.Duration.Seconds())
	}
	overall := 0
	if v.run.OK() {
		overall = 1
	}
	b.WriteString("# HELP django_health_check_overall_status Overall health check status (1 = all critical checks healthy, 0 = at least one unhealthy)\n")
	b.WriteString("# TYPE django_health_check_overall_status gauge\n")
	fmt.Fprintf(&b, "django_health_check_overall_status %d\n# EOF\n", overall)
	return b.Bytes(), nil
}

// labelValue quotes a label value as OpenMetrics escapes it.
func labelValue(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// The feeds have one item per check, dated when the check entered its
// current state, so that a reader shows each outage and recovery as news.
const (
	feedTitle       = "Health Check Status"
	feedDescription = "Current status of system health checks"
	feedAuthor      = "healthjob"
)

// feedItem is a check as both feeds show it.
type feedItem struct {
	title, description, category, id string
	date                             time.Time
}

func feedItems(v *view) []feedItem {
	items := make([]feedItem, 0, len(v.run.Checks))
	for _, c := range v.run.Checks {
		since := v.history[c.Name].since
		if since.IsZero() {
			since = v.run.Timestamp.Time
		}
		it := feedItem{title: c.Name, description: statusOf(c), category: "healthy", date: since.UTC()}
		if !c.Passed() {
			it.category = "unhealthy"
		}
		it.id = feedLink(v) + "#" + url.PathEscape(c.Name) + "-" + strconv.FormatInt(since.Unix(), 10)
		items = append(items, it)
	}
	return items
}

// feedLink is the endpoint's URL without the query.
func feedLink(v *view) string {
	link, _, _ := strings.Cut(v.url, "?")
	return link
}

type rss struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Atom    string   `xml:"xmlns:atom,attr"`
	Channel struct {
		Title         string    `xml:"title"`
		Link          string    `xml:"link"`
		Description   string    `xml:"description"`
		Self          atomLink  `xml:"atom:link"`
		LastBuildDate string    `xml:"lastBuildDate"`
		Items         []rssItem `xml:"item"`
	} `xml:"channel"`
}

type rssItem struct {
	Title       string `xml:"title"`
	Link        string `xml:"link"`
	Description string `xml:"description"`
	PubDate     string `xml:"pubDate"`
	GUID        struct {
		IsPermaLink bool   `xml:"isPermaLink,attr"`
		Value       string `xml:",chardata"`
	} `xml:"guid"`
	Category string `xml:"category"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
}

func renderRSS(v *view) ([]byte, error) {
	feed := rss{Version: "2.0", Atom: "http://www.w3.org/2005/Atom"}
	ch := &feed.Channel
	ch.Title, ch.Link, ch.Description = feedTitle, feedLink(v), feedDescription
	ch.Self = atomLink{Href: v.url, Rel: "self"}
	ch.LastBuildDate = v.run.Timestamp.UTC().Format(time.RFC1123Z)
	for _, it := range feedItems(v) {
		item := rssItem{Title: it.title, Link: feedLink(v), Description: it.description, PubDate: it.date.Format(time.RFC1123Z), Category: it.category}
		item.GUID.Value = it.id
		ch.Items = append(ch.Items, item)
	}
	return marshalXML(feed)
}

type atom struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle"`
	Links    []atomLink  `xml:"link"`
	ID       string      `xml:"id"`
	Updated  string      `xml:"updated"`
	Entries  []atomEntry `xml:"entry"`
}

type atomEntry struct {
	Title     string   `xml:"title"`
	Link      atomLink `xml:"link"`
	ID        string   `xml:"id"`
	Published string   `xml:"published"`
	Updated   string   `xml:"updated"`
	Author    struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Summary  string `xml:"summary"`
	Category struct {
		Term string `xml:"term,attr"`
	} `xml:"category"`
}

func renderAtom(v *view) ([]byte, error) {
	feed := atom{
		Title: feedTitle, Subtitle: feedDescription, ID: feedLink(v),
		Links:   []atomLink{{Href: feedLink(v), Rel: "alternate"}, {Href: v.url, Rel: "self"}},
		Updated: v.run.Timestamp.UTC().Format(time.RFC3339),
	}
	for _, it := range feedItems(v) {
		e := atomEntry{Title: it.title, Link: atomLink{Href: feedLink(v), Rel: "alternate"}, ID: it.id,
			Published: it.date.Format(time.RFC3339), Updated: it.date.Format(time.RFC3339), Summary: it.description}
		e.Author.Name = feedAuthor
		e.Category.Term = it.category
		feed.Entries = append(feed.Entries, e)
	}
	return marshalXML(feed)
}

func marshalXML(v any) ([]byte, error) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), b...), '\n'), nil
}
