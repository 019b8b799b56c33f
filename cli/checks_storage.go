package cli

import (
	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/s3"
	"github.com/healthjob/healthjob/checks/smtp"
	"github.com/healthjob/healthjob/checks/storage"
	"github.com/healthjob/healthjob/internal/config"
)

// storageCheckTypes are the check types of this group; see checkTypes.
var storageCheckTypes = map[string]checkType{
	"storage": storageCheck,
	"s3":      s3Check,
	"mail":    mailCheck,
}

// storageCheck builds a storage check. Its option: path, the directory to
// write the test file under (default the system's temporary directory).
func storageCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	var opts struct {
		Path string `yaml:"path"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	c, err := storage.New(storage.Config{Name: spec.Name, Path: opts.Path})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// s3Check builds an s3 check. Its options: url (s3://bucket/prefix),
// endpoint, region, path_style, access_key, secret_key and insecure.
func s3Check(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	var opts struct {
		URL       string `yaml:"url"`
		Endpoint  string `yaml:"endpoint"`
		Region    string `yaml:"region"`
		PathStyle bool   `yaml:"path_style"`
		AccessKey string `yaml:"access_key"`
		SecretKey string `yaml:"secret_key"`
		Insecure  bool   `yaml:"insecure"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	if opts.URL == "" {
		return nil, spec.Errorf("url is missing; want s3://bucket or s3://bucket/prefix")
	}
	c, err := s3.New(s3.Config{
		Name: spec.Name, URL: opts.URL, Endpoint: opts.Endpoint, Region: opts.Region,
		PathStyle: opts.PathStyle, AccessKey: opts.AccessKey, SecretKey: opts.SecretKey, Insecure: opts.Insecure,
	})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// mailCheck builds a mail check. Its options: url (default
// smtp://localhost:25, as Django's EMAIL_HOST and EMAIL_PORT), tls and
// insecure_skip_verify; MAIL_TIMEOUT bounds the conversation.
func mailCheck(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
	var opts struct {
		URL                string `yaml:"url"`
		TLS                string `yaml:"tls"`
		InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	c, err := smtp.New(smtp.Config{
		Name: spec.Name, URL: opts.URL, TLS: opts.TLS,
		InsecureSkipVerify: opts.InsecureSkipVerify, Timeout: cfg.MailTimeout.D(),
	})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}
