package s3store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/s3store"
)

// TestConfigFromEnvironment: NewFromConfig finds credentials, region and
// endpoint the standard ways: a named profile in the shared files, the
// AWS_* environment variables, AWS_ENDPOINT_URL.
func TestConfigFromEnvironment(t *testing.T) {
	ep := endpoint(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(creds, []byte("[dgtest]\naws_access_key_id = "+testAccessKey+
		"\naws_secret_access_key = "+testSecretKey+"\n[bad]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("[profile dgtest]\nregion = us-east-1\n[profile bad]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_CONFIG_FILE", conf)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	try := func(what string, cfg s3store.Config, wantOK bool) {
		t.Helper()
		s, _, err := s3store.NewFromConfig(t.Context(), cfg)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		_, err = s.ListBuckets(t.Context())
		if (err == nil) != wantOK {
			t.Errorf("%s: ListBuckets: %v (want success %v)", what, err, wantOK)
		}
	}
	try("profile", s3store.Config{Endpoint: ep, Profile: "dgtest", UsePathStyle: true}, true)
	try("wrong profile", s3store.Config{Endpoint: ep, Profile: "bad", UsePathStyle: true}, false)

	t.Setenv("AWS_PROFILE", "dgtest")
	t.Setenv("AWS_ENDPOINT_URL", ep)
	try("AWS_PROFILE and AWS_ENDPOINT_URL", s3store.Config{UsePathStyle: true}, true)

	t.Setenv("AWS_PROFILE", "bad")
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	try("environment credentials over the profile's", s3store.Config{UsePathStyle: true}, true)
}
