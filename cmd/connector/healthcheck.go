package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/connectorhq/connector/internal/cli"
)

// healthcheck asks a running server whether it is up (/healthz) or ready
// (/readyz) and exits 0 when it answers 200, else 1 with a one-line reason.
// It is the container's HEALTHCHECK: distroless images have no curl, so the
// binary checks itself. It reads only ADDR (flag, environment, .env), so it
// works with whatever configuration the server runs with.
func (e env) healthcheck(ctx context.Context, args []string) int {
	flags := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	flags.SetOutput(e.stderr)
	addr := cli.StringVar(flags, "addr", "host:port", "", `address of the server (env ADDR, default "127.0.0.1:8000"); 0.0.0.0 and :: mean this machine`)
	ready := flags.Bool("ready", false, "check /readyz (the store answers) instead of /healthz (the process is up)")
	timeout := flags.Duration("timeout", 3*time.Second, "time limit of the check")
	envFile := cli.EnvFileFlag(flags)
	flags.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: connector healthcheck [flags]\n\nExits 0 when the server answers 200, else 1.\n\nFlags:\n")
		cli.PrintFlags(e.stderr, flags)
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(e.stderr, "connector healthcheck: unexpected argument %q\n", flags.Arg(0))
		return exitUsage
	}
	if *addr == "" {
		dotenv, err := godotenv.Read(*envFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(e.stderr, "connector healthcheck: read %s: %v\n", *envFile, err)
			return exitUsage
		}
		*addr = cmp.Or(strings.TrimSpace(e.getenv("ADDR")), strings.TrimSpace(dotenv["ADDR"]), "127.0.0.1:8000")
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	target, err := healthURL(*addr, path)
	if err != nil {
		fmt.Fprintf(e.stderr, "connector healthcheck: ADDR %v\n", err)
		return exitUsage
	}
	if err := check(ctx, target, *timeout); err != nil {
		fmt.Fprintf(e.stderr, "connector healthcheck: unhealthy: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "connector healthcheck: ok: GET %s 200\n", target)
	return exitOK
}

// healthURL is the URL of path on the server listening at addr. A wildcard
// or empty host (0.0.0.0, ::, ":8000") is reached on loopback.
func healthURL(addr, path string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", fmt.Errorf("%q is not host:port, e.g. 127.0.0.1:8000 or :8000", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "::0":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

// check GETs target and wants 200 within timeout. It uses no proxy from the
// environment and follows no redirect: the server itself must answer.
func check(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "connector-healthcheck/"+buildVersion())
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("GET %s: no answer within %v", target, timeout)
		}
		return fmt.Errorf("GET %s: %v", target, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		detail := strings.Join(strings.Fields(string(body)), " ")
		if len(detail) > 200 {
			detail = detail[:200] + "…"
		}
		return fmt.Errorf("GET %s: %s %s", target, resp.Status, detail)
	}
	return nil
}

// unwrapURLError drops the *url.Error prefix, which repeats the method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
