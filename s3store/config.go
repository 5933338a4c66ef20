package s3store

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Config describes how to reach an S3 service. The zero value uses the
// SDK defaults throughout: credentials, region and endpoint from the
// environment and the shared config files (AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL, ~/.aws/config, SSO, instance metadata, ...).
type Config struct {
	// Endpoint is the service URL, e.g. "http://127.0.0.1:7070". Empty
	// uses AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / the profile's
	// endpoint_url, else AWS.
	Endpoint string
	// Region; empty uses the environment or profile, else "us-east-1"
	// (S3-compatible servers accept any region).
	Region string
	// Profile selects a shared config profile (like AWS_PROFILE).
	Profile string
	// UsePathStyle addresses buckets as endpoint/bucket instead of
	// bucket.endpoint; most self-hosted servers need it.
	UsePathStyle bool
	// AccessKeyID and SecretAccessKey, when both set, replace the
	// credential chain with these static credentials.
	AccessKeyID, SecretAccessKey, SessionToken string
	// MaxAttempts is the number of attempts per request (first try plus
	// retries) made by the SDK's standard retryer; 0 keeps the SDK
	// default (3, or AWS_MAX_ATTEMPTS).
	MaxAttempts int
	// RetryMaxBackoff, if positive, caps the delay between attempts
	// (SDK default 20 s; delays grow exponentially with jitter).
	RetryMaxBackoff time.Duration
	// HTTPTimeout, if positive, bounds each HTTP request (connect, send,
	// and receiving the headers; not the streaming of a body).
	HTTPTimeout time.Duration
}

// NewFromConfig builds an *s3.Client from cfg and returns a Store on it,
// plus the client for callers that need other S3 calls.
func NewFromConfig(ctx context.Context, cfg Config, opts ...Option) (*Store, *s3.Client, error) {
	var load []func(*config.LoadOptions) error
	if cfg.Region != "" {
		load = append(load, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.AccessKeyID != "" && cfg.SecretAccessKey != "" {
		load = append(load, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	if cfg.RetryMaxBackoff > 0 {
		load = append(load, config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				if cfg.MaxAttempts > 0 {
					o.MaxAttempts = cfg.MaxAttempts
				}
				o.MaxBackoff = cfg.RetryMaxBackoff
			})
		}))
	} else if cfg.MaxAttempts > 0 {
		load = append(load, config.WithRetryMaxAttempts(cfg.MaxAttempts))
	}
	if cfg.HTTPTimeout > 0 {
		hc := awshttp.NewBuildableClient().WithTimeout(0).WithTransportOptions(func(t *http.Transport) {
			t.ResponseHeaderTimeout = cfg.HTTPTimeout
			t.TLSHandshakeTimeout = cfg.HTTPTimeout
		}).WithDialerOptions(func(d *net.Dialer) { d.Timeout = cfg.HTTPTimeout })
		load = append(load, config.WithHTTPClient(hc))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, nil, fmt.Errorf("s3store: loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.UsePathStyle
	})
	opts = append([]Option{WithLocationConstraint(awsCfg.Region)}, opts...)
	s, err := New(client, opts...)
	if err != nil {
		return nil, nil, err
	}
	return s, client, nil
}
