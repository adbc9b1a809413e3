package httpserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"

	"github.com/connectorhq/connector/internal/metrics"
)

// originPolicy decides which browser origins may call the server
// (CORS_ORIGINS). Requests without an Origin header (server-to-server
// clients: ChatGPT, the Responses API) are not browser requests and pass.
type originPolicy struct {
	any       bool
	exact     map[string]bool // "https://app.example.com", lower case
	wildcards [][2]string     // prefix and suffix around one "*": "https://" and ".example.com"
	// loopback also allows pages on localhost when the server itself
	// listens on loopback (MCP Inspector on a developer's machine).
	loopback bool
}

func newOriginPolicy(origins []string, loopbackListener bool) *originPolicy {
	p := &originPolicy{exact: map[string]bool{}, loopback: loopbackListener}
	for _, o := range origins {
		o = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
		switch {
		case o == "":
		case o == "*":
			p.any = true
		case strings.Contains(o, "*"):
			pre, suf, _ := strings.Cut(o, "*")
			p.wildcards = append(p.wildcards, [2]string{pre, suf})
		default:
			p.exact[o] = true
		}
	}
	return p
}

func (p *originPolicy) allows(origin string) bool {
	if origin == "" || p.any {
		return true
	}
	o := strings.ToLower(origin)
	if p.exact[o] {
		return true
	}
	for _, w := range p.wildcards {
		if len(o) > len(w[0])+len(w[1]) && strings.HasPrefix(o, w[0]) && strings.HasSuffix(o, w[1]) {
			return true
		}
	}
	if p.loopback {
		if u, err := url.Parse(o); err == nil && (u.Scheme == "http" || u.Scheme == "https") && isLoopbackHost(stripPort(u.Host)) {
			return true
		}
	}
	return false
}

// corsHandler answers preflight requests and adds CORS headers for allowed
// origins on every route, and refuses MCP requests from other origins with
// 403: a web page must not drive the tools with a visitor's credentials or
// network position.
func corsHandler(p *originPolicy, m *metrics.Metrics, logger *slog.Logger, next http.Handler) http.Handler {
	c := cors.New(cors.Options{
		AllowOriginFunc: p.allows,
		AllowedMethods:  []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "Mcp-Protocol-Version",
			"Last-Event-ID", "X-API-Key", "X-Request-Id"},
		ExposedHeaders: []string{"Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate", "Retry-After", "X-Request-Id"},
		MaxAge:         600,
	})
	h := c.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && isMCPPath(r.URL.Path) && !p.allows(origin) && !sameOrigin(origin, r.Host) {
			m.Limited(metrics.LimitOrigin)
			logger.InfoContext(r.Context(), "request refused: browser origin not allowed", "origin", origin, "path", r.URL.Path,
				"fix", "add the origin to CORS_ORIGINS")
			http.Error(w, fmt.Sprintf("403 Forbidden: browser requests from Origin %s may not use the MCP endpoints. "+
				"If this web app should connect, add %s to CORS_ORIGINS (comma-separated; \"*\" allows any origin) and restart; "+
				"if it is this server's own public URL, set PUBLIC_BASE_URL or ALLOWED_HOSTS to it. "+
				"Server-to-server clients send no Origin header and are not affected.", origin, origin), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether origin names the host the request was sent
// to: a page of this server's own site (ports aside).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(stripPort(u.Host), stripPort(host))
}

// isMCPPath reports whether path is one of the MCP endpoints.
func isMCPPath(path string) bool {
	switch path {
	case "/mcp", "/mcp/", "/sse", "/sse/":
		return true
	}
	return false
}

// ParseCORSOrigins reads CORS_ORIGINS: a comma-separated list of origins
// (scheme://host[:port], one "*" allowed in the host, e.g.
// https://*.example.com), or "*" for any origin.
func ParseCORSOrigins(s string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(strings.Replace(o, "*", "wildcard", 1))
			switch {
			case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
				return nil, fmt.Errorf("%q is not an origin: write scheme://host[:port], e.g. https://app.example.com", o)
			case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
				return nil, fmt.Errorf("%q: an origin has no path, query or user: write it as %s://%s", o, u.Scheme, strings.Replace(u.Host, "wildcard", "*", 1))
			case strings.Count(o, "*") > 1:
				return nil, fmt.Errorf("%q: use at most one \"*\", e.g. https://*.example.com", o)
			}
		}
		out = append(out, o)
	}
	return out, nil
}
