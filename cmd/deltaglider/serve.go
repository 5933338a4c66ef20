package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/server"
)

func serveCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve an S3-compatible API with transparent delta compression",
		Description: "Any S3 client (aws CLI, boto3, aws-sdk-go-v2, rclone) pointed at this endpoint\n" +
			"(path-style addressing) stores through the delta engine, on the embedded store\n" +
			"(--store-dir) or on the S3 backend the global flags select. Clients sign with\n" +
			"--access-key/--secret-key (env DG_SERVE_ACCESS_KEY, DG_SERVE_SECRET_KEY); without\n" +
			"them only a loopback address is allowed unless --insecure-no-auth is given.\n" +
			"GET /-/health and /-/metrics (also /health, /metrics) need no signature.\n" +
			"SIGINT/SIGTERM stop accepting connections and let running requests finish.\n\n" +
			"Examples:\n" +
			"  deltaglider serve --store-dir /srv/dg --access-key AK --secret-key SK\n" +
			"  aws --endpoint-url http://127.0.0.1:9000 s3 cp app-1.2.zip s3://releases/app/",
		Flags: append(backendFlags(),
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:9000", Usage: "listen on `ADDR` (host:port; port 0 picks a free one)"},
			&cli.StringFlag{Name: "access-key", Usage: "access key `ID` clients sign with (env DG_SERVE_ACCESS_KEY)"},
			&cli.StringFlag{Name: "secret-key", Usage: "secret `KEY` clients sign with (env DG_SERVE_SECRET_KEY)"},
			&cli.BoolFlag{Name: "insecure-no-auth", Usage: "accept unsigned requests even on a non-loopback address"},
			&cli.StringFlag{Name: "tls-cert", Usage: "serve HTTPS with the certificate `FILE` (PEM)"},
			&cli.StringFlag{Name: "tls-key", Usage: "serve HTTPS with the private key `FILE` (PEM)"},
			&cli.StringFlag{Name: "spool-dir", Usage: "spool multipart parts in `DIR` (default: a temporary directory)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "request log format on stderr: text or json"},
		),
		Action: withSession(e, func(s *session) error { return runServe(s) }),
	}
}

// loopbackHost reports whether host (from host:port) can only be reached
// from this machine.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runServe(s *session) error {
	c := s.c
	addr := c.String("listen")
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErrorf("--listen %q: %v", addr, err)
	}
	ak := c.String("access-key")
	if ak == "" {
		ak = os.Getenv("DG_SERVE_ACCESS_KEY")
	}
	sk := c.String("secret-key")
	if sk == "" {
		sk = os.Getenv("DG_SERVE_SECRET_KEY")
	}
	if (ak == "") != (sk == "") {
		return usageErrorf("give both --access-key and --secret-key, or neither")
	}
	if ak == "" && !loopbackHost(host) && !c.Bool("insecure-no-auth") {
		return usageErrorf("refusing to serve without credentials on %s, which is not a loopback address; "+
			"set --access-key and --secret-key, or pass --insecure-no-auth", addr)
	}
	cert, key := c.String("tls-cert"), c.String("tls-key")
	if (cert == "") != (key == "") {
		return usageErrorf("give both --tls-cert and --tls-key, or neither")
	}
	// One line per request at Info; --quiet keeps warnings and errors.
	hopts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if gBool(c, "quiet") {
		hopts.Level = slog.LevelWarn
	}
	var h slog.Handler
	switch c.String("log-format") {
	case "text":
		h = slog.NewTextHandler(s.e.stderr, hopts)
	case "json":
		h = slog.NewJSONHandler(s.e.stderr, hopts)
	default:
		return usageErrorf("--log-format %q: want text or json", c.String("log-format"))
	}
	cfg := server.Config{Client: s.dc, SpoolDir: c.String("spool-dir"), Logger: slog.New(h)}
	if ak != "" {
		cfg.Credentials = map[string]string{ak: sk}
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if cert != "" {
		scheme = "https"
	}
	auth := "SigV4 required"
	if ak == "" {
		auth = "no authentication"
	}
	fmt.Fprintf(s.e.stdout, "deltaglider: serving S3 on %s://%s (%s; %s)\n", scheme, ln.Addr(), s.where, auth)
	err = srv.Serve(s.ctx, ln, cert, key)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
