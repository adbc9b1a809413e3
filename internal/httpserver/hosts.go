package httpserver

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// hostGuard protects a local server from DNS rebinding: a web page on
// evil.example whose name resolves to 127.0.0.1 reaches the server with
// Host: evil.example (and Origin: http://evil.example), which is refused.
// Loopback names are always accepted; configured hosts (ALLOWED_HOSTS and
// the PUBLIC_BASE_URL host) too, which is how a tunnel to a local port works.
type hostGuard struct {
	enforce  bool     // refuse hosts that are neither loopback nor allowed
	anyHost  bool     // "*" was configured
	exact    []string // lower-case host names
	suffixes []string // ".example.com" for "*.example.com"
	// origins, when set, accepts an Origin the operator allowed explicitly
	// (CORS_ORIGINS) even when its host is not an allowed Host.
	origins func(origin string) bool
	logger  *slog.Logger
	warned  atomic.Bool
}

// newHostGuard enforces the allow-list on loopback listeners, and on any
// listener when hosts are configured explicitly.
func newHostGuard(loopbackListener bool, allowed []string, logger *slog.Logger) *hostGuard {
	g := &hostGuard{enforce: loopbackListener || len(allowed) > 0, logger: logger}
	for _, h := range allowed {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case h == "":
		case h == "*":
			g.anyHost = true
		case strings.HasPrefix(h, "*."):
			g.suffixes = append(g.suffixes, h[1:])
		default:
			g.exact = append(g.exact, stripPort(h))
		}
	}
	return g
}

func (g *hostGuard) wrap(next http.Handler) http.Handler {
	if !g.enforce || g.anyHost {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := stripPort(strings.ToLower(r.Host))
		if !g.allows(host) && !(isProbe(r.URL.Path) && net.ParseIP(host) != nil) {
			g.refuse(w, r, "Host", r.Host)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if (err != nil || !g.allows(stripPort(strings.ToLower(u.Host)))) && (g.origins == nil || !g.origins(origin)) {
				g.refuse(w, r, "Origin", origin)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (g *hostGuard) allows(host string) bool {
	if isLoopbackHost(host) {
		return true
	}
	for _, h := range g.exact {
		if host == h {
			return true
		}
	}
	for _, s := range g.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

func (g *hostGuard) refuse(w http.ResponseWriter, r *http.Request, header, value string) {
	level := slog.LevelDebug
	if !g.warned.Swap(true) {
		level = slog.LevelWarn // once at warn, so a tunnel set-up problem is visible
	}
	g.logger.Log(r.Context(), level, "request refused: host not allowed (DNS-rebinding protection)",
		"header", header, "value", value, "path", r.URL.Path,
		"fix", "set PUBLIC_BASE_URL to the public URL, or add the host to ALLOWED_HOSTS")
	http.Error(w, "403 Forbidden: "+header+" "+value+" is not allowed. This server protects a local port against DNS rebinding. "+
		"If you reach it through a tunnel or reverse proxy, set PUBLIC_BASE_URL to its public URL (e.g. https://example.ngrok-free.app) "+
		"or add the host name to ALLOWED_HOSTS, then restart.", http.StatusForbidden)
}

// isProbe reports whether path is one that load balancers, Kubernetes probes
// and Prometheus reach at the pod's or host's IP address. They may send an
// IP-literal Host: that is never DNS rebinding, which needs a name the
// attacker controls (a browser sends an IP as Host only to a page of that
// very address).
func isProbe(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// stripPort removes a port and IPv6 brackets: "[::1]:8000" → "::1".
func stripPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// isLoopbackHost reports whether a host name (without port) can only mean
// this machine: localhost, *.localhost, or a loopback IP address.
func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
