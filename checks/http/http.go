// Package http checks a web endpoint with one request. Step by step, it:
//
//  1. sends Method (GET) to URL with the configured headers, following
//     redirects unless told not to; a connection or TLS error is
//     "unavailable: <url>: <reason>" (the URL's password hidden), and no
//     answer before the deadline is the runner's "unavailable: check timed
//     out after 10s";
//  2. compares the status with the wanted ones (any 2xx by default):
//     "unexpected result: status 503, want 200";
//  3. looks for Contains in the first MiB of the body:
//     `unexpected result: response body does not contain "ready"`;
//  4. over HTTPS, warns when the server's certificate expires within
//     CertExpiryWarning (14 days):
//     "warning: TLS certificate of example.com expires in 9 days (2026-12-01)",
//     or "… expired 2 days ago (…)" when InsecureSkipVerify let it through.
//
// Every request opens its own connection and closes it.
package http

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/healthjob/healthjob"
)

// Config configures a Check.
type Config struct {
	// Name overrides the default, "HTTP <host:port of URL>".
	Name string
	// URL is the http:// or https:// address to request.
	URL string
	// Method is the request method; "" means GET.
	Method string
	// Headers are set on the request; "Host" sets the virtual host.
	Headers map[string]string
	// Status lists the wanted status codes; empty means any 2xx.
	Status []int
	// Contains, when set, must appear in the first MiB of the body.
	Contains string
	// InsecureSkipVerify accepts any server certificate.
	InsecureSkipVerify bool
	// CertExpiryWarning is how long before its expiry a server certificate
	// makes the check warn; 0 means 14 days, a negative value never warns.
	CertExpiryWarning time.Duration
	// NoRedirects checks a redirect's own status instead of following it.
	NoRedirects bool
}

const bodyLimit = 1 << 20

func (c *Config) defaults() {
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	c.Method = strings.ToUpper(c.Method)
	if c.CertExpiryWarning == 0 {
		c.CertExpiryWarning = 14 * 24 * time.Hour
	}
}

// Check requests a URL and checks the answer.
type Check struct {
	cfg    Config
	url    *url.URL
	client *http.Client
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check. It is an error when URL is not an http:// or https://
// URL with a host, Method is not a valid method or a status is not 100–599.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	u, err := url.Parse(cfg.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue's text repeats the URL, password and all
		}
		return nil, fmt.Errorf("url: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url: %q is not an http:// or https:// URL with a host", redact(u))
	}
	if _, err := http.NewRequest(cfg.Method, cfg.URL, nil); err != nil {
		return nil, fmt.Errorf("method: %q is not a request method", cfg.Method)
	}
	for _, s := range cfg.Status {
		if s < 100 || s > 599 {
			return nil, fmt.Errorf("status: %d is not an HTTP status code", s)
		}
	}
	if cfg.Name == "" {
		cfg.Name = shorten("HTTP " + u.Host)
	}
	transport := &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify},
		DisableKeepAlives: true, // a probe every few seconds should not hold a connection open in between
	}
	client := &http.Client{Transport: transport}
	if cfg.NoRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &Check{cfg: cfg, url: u, client: client}, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.cfg.Name }

// Check sends the request and checks the response.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // the runner reports it as a timeout or a cancellation
	}
	req, err := http.NewRequestWithContext(ctx, c.cfg.Method, c.url.String(), nil)
	if err != nil {
		return healthjob.Unavailable("%s: %v", redact(c.url), err)
	}
	for k, v := range c.cfg.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue's text repeats the method and the URL with its password
		}
		return healthjob.Unavailable("%s: %v", redact(c.url), err)
	}
	defer resp.Body.Close()

	if !c.wanted(resp.StatusCode) {
		return healthjob.UnexpectedResult("status %d, want %s", resp.StatusCode, c.want())
	}
	if c.cfg.Contains != "" {
		body, err := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return healthjob.Unavailable("%s: read body: %v", redact(c.url), err)
		}
		if !strings.Contains(string(body), c.cfg.Contains) {
			return healthjob.UnexpectedResult("response body does not contain %q", c.cfg.Contains)
		}
	}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 && c.cfg.CertExpiryWarning > 0 {
		notAfter := resp.TLS.PeerCertificates[0].NotAfter
		left := time.Until(notAfter)
		host, date := resp.Request.URL.Hostname(), notAfter.UTC().Format(time.DateOnly)
		switch {
		case left < 0:
			return healthjob.Warning("TLS certificate of %s expired %d days ago (%s)", host, int(-left.Hours()/24), date)
		case left < c.cfg.CertExpiryWarning:
			return healthjob.Warning("TLS certificate of %s expires in %d days (%s)", host, int(left.Hours()/24), date)
		}
	}
	return nil
}

func (c *Check) wanted(status int) bool {
	if len(c.cfg.Status) == 0 {
		return status >= 200 && status < 300
	}
	return slices.Contains(c.cfg.Status, status)
}

// want describes the wanted statuses: "2xx", "200", "200 or 204".
func (c *Check) want() string {
	if len(c.cfg.Status) == 0 {
		return "2xx"
	}
	codes := make([]string, len(c.cfg.Status))
	for i, s := range c.cfg.Status {
		codes[i] = strconv.Itoa(s)
	}
	return strings.Join(codes, " or ")
}

// redact renders u with its password, if any, as *****.
func redact(u *url.URL) string {
	if _, ok := u.User.Password(); !ok {
		return u.String()
	}
	r := *u
	r.User = url.UserPassword(u.User.Username(), "xxxxx")
	return strings.Replace(r.String(), "xxxxx", "*****", 1)
}

// shorten cuts a name to healthjob.MaxNameLength characters.
func shorten(name string) string {
	if r := []rune(name); len(r) > healthjob.MaxNameLength {
		return string(r[:healthjob.MaxNameLength-1]) + "…"
	}
	return name
}
