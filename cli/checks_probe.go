package cli

import (
	"strconv"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/dns"
	"github.com/healthjob/healthjob/checks/exec"
	"github.com/healthjob/healthjob/checks/http"
	"github.com/healthjob/healthjob/checks/tcp"
	"github.com/healthjob/healthjob/internal/config"
	"go.yaml.in/yaml/v3"
)

// probeCheckTypes are the check types of this group; see checkTypes.
var probeCheckTypes = map[string]checkType{
	"http": httpCheck,
	"tcp":  tcpCheck,
	"dns":  dnsCheck,
	"exec": execCheck,
}

// httpCheck builds an http check. Its options: url, method (GET), status
// (one code or a list; default any 2xx), contains, headers (a mapping),
// insecure_skip_verify, cert_expiry_warning (14d; 0 turns it off) and
// follow_redirects (true).
func httpCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	opts := struct {
		URL                string            `yaml:"url"`
		Method             string            `yaml:"method"`
		Status             []string          `yaml:"status"` // strings, so that "status: 200" reads as a list of one
		Contains           string            `yaml:"contains"`
		Headers            map[string]string `yaml:"headers"`
		InsecureSkipVerify bool              `yaml:"insecure_skip_verify"`
		CertExpiryWarning  *config.Duration  `yaml:"cert_expiry_warning"`
		FollowRedirects    bool              `yaml:"follow_redirects"`
	}{FollowRedirects: true}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	if opts.URL == "" {
		return nil, spec.Errorf("url is missing; want an http:// or https:// URL")
	}
	cfg := http.Config{
		Name: spec.Name, URL: opts.URL, Method: opts.Method, Headers: opts.Headers, Contains: opts.Contains,
		InsecureSkipVerify: opts.InsecureSkipVerify, NoRedirects: !opts.FollowRedirects,
	}
	for _, s := range opts.Status {
		code, err := strconv.Atoi(s)
		if err != nil {
			return nil, spec.Errorf("status: %q is not an HTTP status code", s)
		}
		cfg.Status = append(cfg.Status, code)
	}
	if w := opts.CertExpiryWarning; w != nil {
		cfg.CertExpiryWarning = w.D()
		if *w == 0 {
			cfg.CertExpiryWarning = -1 // the package's "never warns"
		}
	}
	c, err := http.New(cfg)
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// tcpCheck builds a tcp check. Its options: url (tcp://host:port) or
// address (host:port), tls and insecure_skip_verify.
func tcpCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	var opts struct {
		URL                string `yaml:"url"`
		Address            string `yaml:"address"`
		TLS                bool   `yaml:"tls"`
		InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	switch {
	case opts.URL == "" && opts.Address == "":
		return nil, spec.Errorf("url is missing; want tcp://host:port (or address: host:port)")
	case opts.URL != "" && opts.Address != "":
		return nil, spec.Errorf("give url or address, not both")
	}
	c, err := tcp.New(tcp.Config{Name: spec.Name, Address: opts.URL + opts.Address, TLS: opts.TLS, InsecureSkipVerify: opts.InsecureSkipVerify})
	switch {
	case err != nil && opts.URL != "":
		return nil, spec.Errorf("url: %q is not a tcp://host:port URL", config.Redact(opts.URL))
	case err != nil:
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// dnsCheck builds a dns check. Its options: host, the name to resolve;
// server, a DNS server to ask (host:port, default the system's resolver);
// and expect, addresses of which one must be among the answers.
func dnsCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	var opts struct {
		Host   string   `yaml:"host"`
		Server string   `yaml:"server"`
		Expect []string `yaml:"expect"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	c, err := dns.New(dns.Config{Name: spec.Name, Host: opts.Host, Server: opts.Server, Expect: opts.Expect})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// execCheck builds an exec check. Its options: command, a list (the program
// and its arguments) or a string (a script for /bin/sh -c with shell: true,
// or a program without arguments), and shell.
func execCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	var opts struct {
		Command []string `yaml:"command"`
		Shell   bool     `yaml:"shell"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	// Decode splits a string at its commas, as lists are written in the
	// environment; a command string is taken whole instead.
	if script, ok := scalarOption(spec, "command"); ok {
		if !opts.Shell && strings.ContainsAny(strings.TrimSpace(script), " \t") {
			return nil, spec.Errorf(`command: a string with arguments needs shell: true; or give a list such as [check_disk, -w, "10%%"]`)
		}
		opts.Command = []string{strings.TrimSpace(script)}
	}
	c, err := exec.New(exec.Config{Name: spec.Name, Command: opts.Command, Shell: opts.Shell})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// scalarOption returns the option name's value as written, when it is a
// single value rather than a list or a mapping.
func scalarOption(spec config.Check, name string) (string, bool) {
	if spec.Options == nil {
		return "", false
	}
	for i := 0; i+1 < len(spec.Options.Content); i += 2 {
		if k, v := spec.Options.Content[i], spec.Options.Content[i+1]; k.Value == name && v.Kind == yaml.ScalarNode {
			return v.Value, true
		}
	}
	return "", false
}
