package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:8000":     "http://127.0.0.1:8000/healthz",
		":8000":            "http://127.0.0.1:8000/healthz",
		"[::]:8000":        "http://[::1]:8000/healthz",
		"127.0.0.1:9000":   "http://127.0.0.1:9000/healthz",
		"[::1]:8000":       "http://[::1]:8000/healthz",
		"connector:8000":   "http://connector:8000/healthz",
		"10.1.2.3:8080":    "http://10.1.2.3:8080/healthz",
		"localhost:8000":   "http://localhost:8000/healthz",
		"0.0.0.0:0x":       "http://127.0.0.1:0x/healthz", // the port is the server's to reject
		"docs.example.com": "",
		"":                 "",
	} {
		got, err := healthURL(addr, "/healthz")
		if (want == "") != (err != nil) || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}

// runHealthcheck runs `connector healthcheck` in-process with the given
// environment and arguments.
func runHealthcheck(t *testing.T, environ map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), append([]string{"healthcheck", "--env-file", t.TempDir() + "/none.env"}, args...), &out, &errOut,
		func(k string) string { return environ[k] })
	return out.String(), errOut.String(), code
}

func TestHealthcheck(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":"unavailable","error":"the document store is not answering"}`, http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux) // on 127.0.0.1
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// ADDR as the container sets it: a wildcard address is checked on loopback.
	stdout, stderr, code := runHealthcheck(t, map[string]string{"ADDR": "0.0.0.0:" + port})
	if code != exitOK || !strings.Contains(stdout, "ok: GET http://127.0.0.1:"+port+"/healthz 200") {
		t.Errorf("healthy server: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// --addr wins over ADDR.
	if _, stderr, code := runHealthcheck(t, map[string]string{"ADDR": "127.0.0.1:1"}, "--addr", ":"+port); code != exitOK {
		t.Errorf("--addr: exit %d %s", code, stderr)
	}

	// Not ready: exit 1 with one line naming the status.
	_, stderr, code = runHealthcheck(t, map[string]string{"ADDR": "127.0.0.1:" + port}, "--ready")
	if code != exitFailure || !strings.Contains(stderr, "/readyz: 503 Service Unavailable") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("unready server: exit %d, stderr %q; want 1 and one line naming the 503", code, stderr)
	}

	// Nothing listening.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	_, stderr, code = runHealthcheck(t, map[string]string{"ADDR": closed})
	if code != exitFailure || !strings.Contains(stderr, "connection refused") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("no server: exit %d, stderr %q", code, stderr)
	}

	// A server that accepts and never answers: the timeout ends the check.
	hang, _ := net.Listen("tcp", "127.0.0.1:0")
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, stderr, code = runHealthcheck(t, map[string]string{"ADDR": hang.Addr().String()}, "--timeout", "300ms")
	if code != exitFailure || !strings.Contains(stderr, "no answer within 300ms") || time.Since(start) > 3*time.Second {
		t.Errorf("hanging server: exit %d after %v, stderr %q", code, time.Since(start), stderr)
	}

	// Bad input is a usage error.
	if _, stderr, code := runHealthcheck(t, map[string]string{"ADDR": "nowhere"}); code != exitUsage || !strings.Contains(stderr, "ADDR") {
		t.Errorf("bad ADDR: exit %d %s", code, stderr)
	}
	if _, _, code := runHealthcheck(t, nil, "extra"); code != exitUsage {
		t.Errorf("extra argument: exit %d", code)
	}
}

// TestHealthcheckCommand runs the built binary against a real server, as the
// container's HEALTHCHECK does: ADDR=0.0.0.0:port in the environment.
func TestHealthcheckCommand(t *testing.T) {
	p := serve(t, t.TempDir())
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(p.base, "http://"))
	env := []string{"ADDR=0.0.0.0:" + port}
	for _, args := range [][]string{{"healthcheck"}, {"healthcheck", "--ready"}} {
		if stdout, stderr, code := runCLI(t, t.TempDir(), env, args...); code != exitOK || !strings.Contains(stdout, " 200") {
			t.Errorf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
	if _, stderr, code := runCLI(t, t.TempDir(), nil, "healthcheck", "-h"); code != exitOK || !strings.Contains(stderr, "Usage: connector healthcheck") {
		t.Errorf("healthcheck -h: exit %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, t.TempDir(), []string{"ADDR=127.0.0.1:1"}, "healthcheck"); code != exitFailure || !strings.HasPrefix(stderr, "connector healthcheck: unhealthy: ") {
		t.Errorf("no server: exit %d %q", code, stderr)
	}
}
