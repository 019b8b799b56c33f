// Package s3 checks an S3 bucket the way django-health-check's
// s3boto3_storage plugin (S3Boto3StorageHealthCheck) checks django-storages'
// S3 storage, with minio-go. Under the configured bucket and prefix the check:
//
//  1. puts the object <prefix>/health_check_storage_test/test-<uuid>.txt
//     with a known content;
//  2. checks that it exists (HEAD);
//  3. reads it back and compares the content;
//  4. deletes it and checks that it is gone (HEAD answers NoSuchKey).
//
// Its status texts:
//
//	working
//	unavailable: File does not exist
//	unavailable: File content does not match
//	unavailable: File was not deleted
//	unavailable: Unknown exception: <reason>, e.g. "NoSuchBucket: The specified bucket does not exist"
//
// The reason is the S3 error code and message, or the network error. Each
// request is tried once: the next run of the check is the retry.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DefaultName is the check's name unless Config.Name overrides it.
const DefaultName = "S3Boto3StorageHealthCheck"

// DefaultEndpoint is Amazon S3's.
const DefaultEndpoint = "s3.amazonaws.com"

// The test object's folder and content, as django-health-check writes them.
const (
	testDir     = "health_check_storage_test"
	testContent = "this is the healthtest file content"
)

// Config configures an S3 check.
type Config struct {
	Name string // default DefaultName
	// URL names the bucket and an optional key prefix: s3://bucket/prefix.
	URL string
	// Endpoint is the server: host[:port], or an http:// or https:// URL.
	// Default DefaultEndpoint.
	Endpoint string
	// Region is the bucket's region; default $AWS_REGION, else looked up.
	Region string
	// PathStyle puts the bucket in the path (host/bucket/key) instead of
	// the host name (bucket.host/key); most servers other than AWS need it.
	PathStyle bool
	// AccessKey and SecretKey are the credentials. Without them the check
	// takes AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN,
	// then ~/.aws/credentials, then the EC2, ECS or EKS IAM role.
	AccessKey string
	SecretKey string
	// Insecure talks plain HTTP to an endpoint given as host[:port].
	Insecure bool
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.Region == "" {
		c.Region = os.Getenv("AWS_REGION")
	}
}

// Check is an S3 check; see the package documentation.
type Check struct {
	name      string
	bucket    string
	prefix    string
	client    *minio.Client
	transport *http.Transport
}

var _ healthjob.Check = (*Check)(nil)

// New returns a check of the bucket cfg.URL names. It connects to nothing:
// a bad URL, endpoint or a missing secret key is its only error.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("s3 url %q: want s3://bucket or s3://bucket/prefix", cfg.URL)
	}
	host, secure, err := parseEndpoint(cfg.Endpoint, cfg.Insecure)
	if err != nil {
		return nil, err
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
	})
	switch {
	case cfg.AccessKey != "" && cfg.SecretKey != "":
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	case cfg.AccessKey != "" || cfg.SecretKey != "":
		return nil, errors.New("s3 credentials: give both access_key and secret_key, or neither to take them from the environment")
	}
	transport, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3 transport: %w", err)
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    transport,
		MaxRetries:   1,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %q: %w", cfg.Endpoint, err)
	}
	return &Check{
		name:      cfg.Name,
		bucket:    u.Host,
		prefix:    strings.Trim(u.Path, "/"),
		client:    client,
		transport: transport,
	}, nil
}

// parseEndpoint splits an endpoint into host[:port] and whether it speaks TLS.
func parseEndpoint(endpoint string, insecure bool) (host string, secure bool, err error) {
	if !strings.Contains(endpoint, "://") {
		return endpoint, !insecure, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false, fmt.Errorf("s3 endpoint %q: want host:port, http://host:port or https://host:port", endpoint)
	}
	if u.Scheme == "https" && insecure {
		return "", false, fmt.Errorf("s3 endpoint %q: insecure (plain HTTP) contradicts https; drop one", endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check puts, reads and deletes a test object; see the package documentation.
func (c *Check) Check(ctx context.Context) (err error) {
	defer c.transport.CloseIdleConnections() // keep no connection (nor its goroutines) between runs
	id := healthjob.NewUUID()
	key := path.Join(c.prefix, testDir, "test-"+id+".txt")
	unknown := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err() // the runner reports the timeout or cancellation
		}
		msg := "Unknown exception: " + strings.ReplaceAll(reason(err), id, "<uuid>")
		return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: msg, Err: err}
	}

	_, err = c.client.PutObject(ctx, c.bucket, key, strings.NewReader(testContent), int64(len(testContent)),
		minio.PutObjectOptions{ContentType: "text/plain"})
	if err != nil {
		return unknown(err)
	}
	defer func() {
		if err != nil {
			// Best effort: the check already failed, and says why.
			c.client.RemoveObject(ctx, c.bucket, key, minio.RemoveObjectOptions{})
		}
	}()

	if _, err := c.client.StatObject(ctx, c.bucket, key, minio.StatObjectOptions{}); isNoSuchKey(err) {
		return healthjob.Unavailable("File does not exist")
	} else if err != nil {
		return unknown(err)
	}

	got, err := c.read(ctx, key)
	if err != nil {
		return unknown(err)
	}
	if got != testContent {
		return healthjob.Unavailable("File content does not match")
	}

	if err := c.client.RemoveObject(ctx, c.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return unknown(err)
	}
	if _, err := c.client.StatObject(ctx, c.bucket, key, minio.StatObjectOptions{}); err == nil {
		return healthjob.Unavailable("File was not deleted")
	} else if !isNoSuchKey(err) {
		return unknown(err)
	}
	return nil
}

// read returns the content of the object key.
func (c *Check) read(ctx context.Context, key string) (string, error) {
	obj, err := c.client.GetObject(ctx, c.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", err
	}
	defer obj.Close() // read-only: closing cannot lose data
	b, err := io.ReadAll(obj)
	return string(b), err
}

func isNoSuchKey(err error) bool {
	var resp minio.ErrorResponse
	return errors.As(err, &resp) && resp.Code == "NoSuchKey"
}

// reason renders err for an operator: the S3 error code and message (its
// final period dropped, as the status text goes on), or the network error
// without the request's URL.
func reason(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.Code != "" {
		return resp.Code + ": " + strings.TrimSuffix(resp.Error(), ".")
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}
