package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The connector behind the reverse proxies of deploy/: nginx configured by
// deploy/nginx.conf (the blocks between its BEGIN/END markers are copied
// verbatim into the test's configuration, so the example is what is
// tested) and caddy running deploy/Caddyfile as it is. Both come from
// scripts/install-test-packages.sh (which scripts/test.sh runs).

const publicHost = "docs.example.com"

var nginxExample = filepath.Join("..", "..", "deploy", "nginx.conf")

// requireTool returns the path of a proxy binary, or skips the test when it
// is not installed (fails when CONNECTOR_REQUIRE_CLIENTS is set, as
// scripts/test.sh does).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/" + name); serr == nil {
			path, err = "/usr/sbin/"+name, nil
		}
	}
	if err != nil {
		if os.Getenv("CONNECTOR_REQUIRE_CLIENTS") != "" {
			t.Fatalf("%s is not installed; run scripts/install-test-packages.sh", name)
		}
		t.Skipf("%s is not installed; run scripts/install-test-packages.sh (make test does)", name)
	}
	return path
}

// nginxBlock returns the text between "# BEGIN connector NAME" and
// "# END connector NAME" in deploy/nginx.conf.
func nginxBlock(t *testing.T, conf, name string) string {
	t.Helper()
	begin, end := "# BEGIN connector "+name+"\n", "# END connector "+name
	i := strings.Index(conf, begin)
	j := strings.Index(conf, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q block", nginxExample, strings.TrimSpace(begin), end)
	}
	return conf[i+len(begin) : j]
}

// freePort returns a loopback port nothing listens on (at the moment).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// nginxPrelude is the top of a configuration that runs as the current user
// with every path under dir.
func nginxPrelude(dir string) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root root;\n" // workers as root too: they read dir (0700)
	}
	tmp := func(name string) string { return filepath.Join(dir, "tmp", name) }
	return fmt.Sprintf(`%sworker_processes 1;
pid %s;
error_log %s info;
events { worker_connections 256; }
http {
    access_log %s;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
    # Test the example's own settings, not the connector's X-Accel-Buffering
    # header, which turns buffering off anyway; and with gzip on for event
    # streams server-wide, as many sites have it, which holds SSE events back
    # unless the example turns it off.
    proxy_ignore_headers X-Accel-Buffering;
    gzip on;
    gzip_types text/event-stream application/json;
`, user, filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "error.log"), filepath.Join(dir, "access.log"),
		tmp("body"), tmp("proxy"), tmp("fastcgi"), tmp("uwsgi"), tmp("scgi"))
}

// startNginx runs nginx on a free loopback port in front of upstream
// (host:port) with deploy/nginx.conf's proxy blocks, and returns its base URL.
func startNginx(t *testing.T, upstream string) string {
	t.Helper()
	nginx := requireTool(t, "nginx")
	raw, err := os.ReadFile(nginxExample)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	up := nginxBlock(t, conf, "upstream")
	if !strings.Contains(up, "server 127.0.0.1:8000;") {
		t.Fatalf("the upstream block of %s no longer points at 127.0.0.1:8000:\n%s", nginxExample, up)
	}
	up = strings.Replace(up, "server 127.0.0.1:8000;", "server "+upstream+";", 1)
	proxy := nginxBlock(t, conf, "proxy")

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		file := filepath.Join(dir, "nginx.conf")
		full := nginxPrelude(dir) + up + fmt.Sprintf("\n    server {\n        listen 127.0.0.1:%d;\n        server_name %s;\n", port, publicHost) +
			proxy + "    }\n}\n"
		if err := os.WriteFile(file, []byte(full), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(nginx, "-p", dir, "-c", file, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		if waitHTTP(base+"/healthz", done) {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM) // fast stop: SSE streams may be open
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
				}
				if t.Failed() {
					log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
					t.Logf("nginx configuration:\n%s\nnginx error log:\n%s%s", full, log, out.String())
				}
			})
			return base
		}
		cmd.Process.Kill()
		<-done
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		if attempt < 2 && strings.Contains(string(log)+out.String(), "Address already in use") {
			continue // another process took the port in between
		}
		t.Fatalf("nginx did not start:\n%s\n%s\nconfiguration:\n%s", out.String(), log, full)
	}
}

// waitHTTP polls url through the proxy until it answers, for up to 10 s or
// until the process ends.
func waitHTTP(url string, exited <-chan error) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			_ = err
			return false
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Host = publicHost
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// prompt is how soon an SSE event must come through a proxy. A proxy that
// buffers holds events until its buffer fills or the stream ends, far
// longer; the slack is for a loaded test machine.
const prompt = 2 * time.Second

// hostTransport sends every request with a fixed Host header, as a client
// that reached the proxy by its public name would.
type hostTransport struct{ host string }

func (h hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return http.DefaultTransport.RoundTrip(r)
}

// publicClient reaches the proxy as docs.example.com. Its time limit turns
// a proxy that holds events back into a failure rather than a hang.
func publicClient() *http.Client {
	return &http.Client{Transport: hostTransport{publicHost}, Timeout: 20 * time.Second}
}

// client is for single requests that set Host themselves.
var client = &http.Client{Timeout: 20 * time.Second}

// TestBehindNginx runs the real binary behind nginx configured by
// deploy/nginx.conf and drives both transports through it with a public
// Host, as ChatGPT and the Responses API reach a deployed server.
func TestBehindNginx(t *testing.T) {
	requireTool(t, "nginx")
	p := serve(t, t.TempDir(), "PUBLIC_BASE_URL=https://"+publicHost, "SSE_KEEPALIVE=300ms")
	proxy := startNginx(t, strings.TrimPrefix(p.base, "http://"))
	driveThroughProxy(t, p, proxy, true)
}

// driveThroughProxy connects both transports through the proxy at base URL
// proxy with Host docs.example.com, and checks the events come promptly and
// the DNS-rebinding protection. forwardsAnyHost says whether the proxy
// passes any Host on (nginx's server block does; Caddy routes by host).
func driveThroughProxy(t *testing.T, p *proc, proxy string, forwardsAnyHost bool) {
	transports := map[string]mcp.Transport{
		"/mcp":  &mcp.StreamableClientTransport{Endpoint: proxy + "/mcp", HTTPClient: publicClient()},
		"/sse/": &mcp.SSEClientTransport{Endpoint: proxy + "/sse/", HTTPClient: publicClient()},
	}
	for path, transport := range transports {
		t.Run("tools via "+path, func(t *testing.T) {
			cs := connectClient(t, transport)
			tools, err := cs.ListTools(t.Context(), nil)
			if err != nil || len(tools.Tools) != 2 {
				t.Fatalf("tools/list: %v %v", tools, err)
			}
			var found searchOut
			if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "connect ChatGPT"}, &found); isErr || len(found.Results) == 0 {
				t.Fatalf("search: %s", text)
			}
			top := found.Results[0]
			if !strings.HasPrefix(top.URL, "https://"+publicHost+"/docs/") {
				t.Errorf("citation URL %q: want it under PUBLIC_BASE_URL", top.URL)
			}
			var doc fetchOut
			if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": top.ID}, &doc); isErr || doc.ID != top.ID || doc.Text == "" {
				t.Fatalf("fetch %s: %s", top.ID, text)
			}
		})
	}

	t.Run("SSE events are not buffered", func(t *testing.T) {
		ctx := t.Context()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, proxy+"/sse/", nil)
		req.Host = publicHost
		req.Header.Set("Accept", "text/event-stream")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("GET /sse/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		events := readSSE(resp.Body)
		ev := nextEvent(t, events, 5*time.Second, func(e sseEvent) bool { return e.name == "endpoint" })
		if d := time.Since(start); d > prompt {
			t.Errorf("the endpoint event took %v to come through the proxy (buffered?)", d)
		}
		endpoint, err := resp.Request.URL.Parse(ev.data)
		if err != nil || !strings.Contains(endpoint.RawQuery, "sessionid=") {
			t.Fatalf("endpoint event %q", ev.data)
		}
		// Keep-alive comments (SSE_KEEPALIVE=300ms) come through while idle.
		nextEvent(t, events, 5*time.Second, func(e sseEvent) bool { return e.comment == "keep-alive" })

		post := func(body string) {
			t.Helper()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), strings.NewReader(body))
			req.Host = publicHost
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Fatalf("POST %s: %d", endpoint, resp.StatusCode)
			}
		}
		post(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"openai-mcp","version":"1.0.0"}}}`)
		nextEvent(t, events, 5*time.Second, func(e sseEvent) bool { return e.name == "message" && strings.Contains(e.data, `"id":1`) })
		post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		sent := time.Now()
		post(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search","arguments":{"query":"tunnel"}}}`)
		res := nextEvent(t, events, 5*time.Second, func(e sseEvent) bool { return e.name == "message" && strings.Contains(e.data, `"id":2`) })
		if d := time.Since(sent); d > prompt {
			t.Errorf("the tool result took %v to come through the proxy", d)
		}
		var rpc struct {
			Result struct {
				Content []struct{ Text string }
				IsError bool
			}
		}
		if json.Unmarshal([]byte(res.data), &rpc) != nil || len(rpc.Result.Content) != 1 || rpc.Result.IsError ||
			!strings.Contains(rpc.Result.Content[0].Text, `"results"`) {
			t.Errorf("tool result event: %s", res.data)
		}
		// The stream stays open after the result: more keep-alives arrive.
		nextEvent(t, events, 5*time.Second, func(e sseEvent) bool { return e.comment == "keep-alive" })
	})

	t.Run("DNS-rebinding protection", func(t *testing.T) {
		get := func(base, host string) int {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
			req.Host = host
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := get(proxy, publicHost); code != 200 {
			t.Errorf("through the proxy with Host %s: %d, want 200", publicHost, code)
		}
		// A forged Host straight to the connector's loopback port, and one
		// passed on by the proxy, are refused.
		bases := []string{p.base}
		if forwardsAnyHost {
			bases = append(bases, proxy)
		}
		for _, base := range bases {
			if code := get(base, "evil.example"); code != http.StatusForbidden {
				t.Errorf("%s with Host evil.example: %d, want 403", base, code)
			}
		}
		// Health checks accept an IP address as Host: Kubernetes probes send
		// the pod's, and load balancers the target's.
		for _, path := range []string{"/healthz", "/readyz"} {
			req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
			req.Host = "10.1.2.3:8000"
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET %s with Host 10.1.2.3:8000: %d, want 200", path, resp.StatusCode)
			}
		}
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
		req, _ := http.NewRequest(http.MethodPost, p.base+"/mcp", strings.NewReader(body))
		req.Host = "evil.example"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /mcp with Host evil.example straight to the connector: %d, want 403", resp.StatusCode)
		}
	})
}

// TestNginxForwardedHeaders checks what deploy/nginx.conf sends upstream,
// with a recorder in place of the connector: the public Host, the client
// address and scheme, a request id, HTTP/1.1 keep-alive, and the body limit.
func TestNginxForwardedHeaders(t *testing.T) {
	requireTool(t, "nginx")
	var mu sync.Mutex
	var seen []*http.Request
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer rec.Close()
	proxy := startNginx(t, rec.Listener.Addr().String())
	last := func() *http.Request {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}

	req, _ := http.NewRequest(http.MethodGet, proxy+"/mcp", nil)
	req.Host = publicHost
	req.Header.Set("X-Request-Id", "client-chosen-id")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := last()
	for name, want := range map[string]string{
		"Host":              publicHost,
		"X-Forwarded-For":   "127.0.0.1",
		"X-Real-IP":         "127.0.0.1",
		"X-Forwarded-Proto": "http", // https behind the TLS server block
		"X-Forwarded-Host":  publicHost,
		"X-Request-Id":      "client-chosen-id",
		"Connection":        "",
	} {
		got := r.Header.Get(name)
		if name == "Host" {
			got = r.Host
		}
		if got != want {
			t.Errorf("upstream %s = %q, want %q", name, got, want)
		}
	}
	if r.Proto != "HTTP/1.1" {
		t.Errorf("upstream protocol %s, want HTTP/1.1", r.Proto)
	}

	req, _ = http.NewRequest(http.MethodGet, proxy+"/healthz", nil)
	req.Host = publicHost
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := last().Header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("without a client X-Request-Id, upstream got %q; want one nginx made", id)
	}

	// client_max_body_size matches MAX_BODY_BYTES' default of 1 MiB.
	for size, want := range map[int]int{1 << 20: 200, 1<<20 + 1: http.StatusRequestEntityTooLarge} {
		req, _ := http.NewRequest(http.MethodPost, proxy+"/mcp", strings.NewReader(strings.Repeat("x", size)))
		req.Host = publicHost
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST of %d bytes: %d, want %d", size, resp.StatusCode, want)
		}
	}
}

// TestNginxExampleIsValid checks the whole of deploy/nginx.conf, TLS server
// blocks included, with `nginx -t`: only the certificate paths are replaced
// (by a self-signed certificate) and the file is wrapped in http {} as
// nginx's sites-enabled include does.
func TestNginxExampleIsValid(t *testing.T) {
	nginx := requireTool(t, "nginx")
	raw, err := os.ReadFile(nginxExample)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := selfSignedCert(t, dir)
	site := strings.ReplaceAll(string(raw), "/etc/letsencrypt/live/"+publicHost+"/fullchain.pem", cert)
	site = strings.ReplaceAll(site, "/etc/letsencrypt/live/"+publicHost+"/privkey.pem", key)
	out, err := nginxTest(t, nginx, dir, site)
	if err != nil || !strings.Contains(out, "test is successful") {
		t.Fatalf("nginx -t on %s: %v\n%s", nginxExample, err, out)
	}
	if strings.Contains(out, "[warn]") {
		t.Errorf("nginx -t warns about %s:\n%s", nginxExample, out)
	}
}

// nginxTest runs `nginx -t` on site wrapped in http {} as nginx's
// sites-enabled include does, with every other path under a new folder.
func nginxTest(t *testing.T, nginx, dir, site string) (string, error) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(nginxPrelude(dir)+site+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nginx, "-t", "-p", dir, "-c", file, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	return string(out), err
}

// TestNginxFirstStep follows deploy/nginx.conf's documented order: step 1,
// deploy/nginx-http.conf, passes `nginx -t` while no certificate exists
// (nginx.conf itself does not, which is why there is a step 1), and it
// serves the same port-80 block that nginx.conf keeps for renewals.
func TestNginxFirstStep(t *testing.T) {
	nginx := requireTool(t, "nginx")
	conf := readRepoFile(t, "deploy/nginx.conf")
	first := readRepoFile(t, "deploy/nginx-http.conf")
	if a, b := nginxBlock(t, conf, "http"), nginxBlock(t, first, "http"); a != b {
		t.Errorf("the port-80 blocks of deploy/nginx.conf and deploy/nginx-http.conf differ:\n%s\n---\n%s", a, b)
	}
	if strings.Contains(first, "ssl") || strings.Contains(first, "443") {
		t.Error("deploy/nginx-http.conf mentions TLS: step 1 must work without a certificate")
	}
	// The header of nginx.conf gives the steps in the order that works.
	step1, step2 := strings.Index(conf, "deploy/nginx-http.conf"), strings.Index(conf, "certbot certonly --webroot -w /var/www/html")
	step3 := strings.Index(conf, "cp deploy/nginx.conf")
	if step1 < 0 || step2 < step1 || step3 < step2 {
		t.Errorf("deploy/nginx.conf's header does not give nginx-http.conf, certbot, then nginx.conf (at %d, %d, %d)", step1, step2, step3)
	}

	out, err := nginxTest(t, nginx, t.TempDir(), first)
	if err != nil || !strings.Contains(out, "test is successful") || strings.Contains(out, "[warn]") {
		t.Errorf("step 1: nginx -t on deploy/nginx-http.conf with no certificate: %v\n%s", err, out)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "letsencrypt", "live", publicHost)
	out, err = nginxTest(t, nginx, dir, strings.ReplaceAll(conf, "/etc/letsencrypt/live/"+publicHost, missing))
	if err == nil || !strings.Contains(out, "certificate") {
		t.Errorf("nginx -t accepts deploy/nginx.conf before its certificate exists, so step 1 is not needed: %v\n%s", err, out)
	}
}

func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: publicHost}, DNSNames: []string{publicHost},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestCaddyfileIsValid adapts and validates deploy/Caddyfile with caddy,
// as on a VM and as in deploy/docker-compose.yml.
func TestCaddyfileIsValid(t *testing.T) {
	caddy := requireTool(t, "caddy")
	file, _ := filepath.Abs(filepath.Join("..", "..", "deploy", "Caddyfile"))
	for _, env := range [][]string{nil, {"DOMAIN=" + publicHost, "UPSTREAM=connector:8000"}} {
		home := t.TempDir()
		cmd := exec.Command(caddy, "validate", "--config", file, "--adapter", "caddyfile")
		cmd.Dir = home
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home)
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Valid configuration") {
			t.Fatalf("caddy validate %v: %v\n%s", env, err, out)
		}
		if strings.Contains(string(out), "not formatted") {
			t.Errorf("deploy/Caddyfile is not formatted: run caddy fmt --overwrite deploy/Caddyfile")
		}
		adapt := exec.Command(caddy, "adapt", "--config", file, "--adapter", "caddyfile")
		adapt.Env = cmd.Env
		js, err := adapt.Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"flush_interval":-1`, `"max_size":1048576`} {
			if !strings.Contains(string(js), want) {
				t.Errorf("adapted Caddyfile lacks %s:\n%s", want, js)
			}
		}
		if env != nil && !strings.Contains(string(js), `"dial":"connector:8000"`) || !strings.Contains(string(js), `"host":["`) {
			t.Errorf("adapted Caddyfile with %v:\n%s", env, js)
		}
	}
}

// TestBehindCaddy runs the real binary behind caddy with deploy/Caddyfile
// as it is, on plain HTTP (DOMAIN=http://docs.example.com:PORT turns
// automatic HTTPS off), and drives both transports through it.
func TestBehindCaddy(t *testing.T) {
	caddy := requireTool(t, "caddy")
	p := serve(t, t.TempDir(), "PUBLIC_BASE_URL=https://"+publicHost, "SSE_KEEPALIVE=300ms")
	file, _ := filepath.Abs(filepath.Join("..", "..", "deploy", "Caddyfile"))
	home := t.TempDir()
	port := freePort(t)
	cmd := exec.Command(caddy, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home,
		fmt.Sprintf("DOMAIN=http://%s:%d", publicHost, port), "UPSTREAM="+strings.TrimPrefix(p.base, "http://"))
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t.Cleanup(func() { // runs after startProcess's cleanup: the log is whole
		if t.Failed() {
			t.Logf("caddy log:\n%s", out.String())
		}
	})
	done := startProcess(t, cmd, 10*time.Second)
	proxy := fmt.Sprintf("http://127.0.0.1:%d", port)
	if !waitHTTP(proxy+"/healthz", done) {
		t.Fatalf("caddy did not start (its admin endpoint needs localhost:2019 free):\n%s", out.String())
	}
	driveThroughProxy(t, p, proxy, false)

	// request_body max_size: the connector's MAX_BODY_BYTES default.
	req, _ := http.NewRequest(http.MethodPost, proxy+"/mcp", strings.NewReader(strings.Repeat("x", 1<<20+1)))
	req.Host = publicHost
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of 1 MiB + 1 through caddy: %d, want 413", resp.StatusCode)
	}
	// Without a length, the body is cut off at 1 MiB: Caddy 2.6 answers 502
	// then, or the connector's 413 when it refuses the body first.
	body := io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20)), strings.NewReader("x"))
	req, _ = http.NewRequest(http.MethodPost, proxy+"/mcp", body)
	req.Host = publicHost
	if resp, err = client.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge && resp.StatusCode != http.StatusBadGateway {
			t.Errorf("chunked POST of 1 MiB + 1 through caddy: %d, want 413 or 502", resp.StatusCode)
		}
	}
}

// sseEvent is one Server-Sent Event, or a comment line.
type sseEvent struct{ name, data, comment string }

// readSSE parses an event stream into a channel, closed at its end.
func readSSE(r io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ch <- sseEvent{comment: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "event:"):
				ev.name = strings.TrimSpace(line[len("event:"):])
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimPrefix(line[len("data:"):], " ")
			}
		}
	}()
	return ch
}

// nextEvent waits up to d for an event that matches.
func nextEvent(t *testing.T, events <-chan sseEvent, d time.Duration, match func(sseEvent) bool) sseEvent {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the SSE stream ended")
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no matching SSE event within %v", d)
		}
	}
}
