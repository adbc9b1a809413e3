package httpserver

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"golang.org/x/time/rate"

	"github.com/connectorhq/connector/internal/metrics"
)

// maxLimiterClients bounds the per-client limiter map: past it, idle
// clients are evicted, and if none is idle an arbitrary one (whose bucket
// then starts full again: the error is in the client's favour).
const maxLimiterClients = 100_000

// limiterSweepEvery is how often idle clients are evicted.
const limiterSweepEvery = time.Minute

// rateLimiter is a token bucket per client: the authenticated subject when
// a token was verified, else the client IP (see clientIPs).
type rateLimiter struct {
	limit   rate.Limit
	burst   int
	idle    time.Duration // a client unseen this long has a full bucket again: forgetting it loses nothing
	ips     clientIPs
	metrics *metrics.Metrics

	mu        sync.Mutex
	bySubject map[string]*clientLimiter
	byIP      map[netip.Addr]*clientLimiter
	lastSweep time.Time
	now       func() time.Time // tests
}

type clientLimiter struct {
	lim  *rate.Limiter
	seen time.Time
}

func newRateLimiter(perSecond float64, burst int, ips clientIPs, m *metrics.Metrics) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	burst = max(burst, 1)
	idle := time.Duration(float64(burst) / perSecond * float64(time.Second))
	return &rateLimiter{
		limit: rate.Limit(perSecond), burst: burst, idle: max(idle, time.Second), ips: ips, metrics: m,
		bySubject: map[string]*clientLimiter{}, byIP: map[netip.Addr]*clientLimiter{}, now: time.Now,
	}
}

// wrap answers 429 with Retry-After to a client over its rate. On MCP
// routes it must run after authentication, to key on the token's subject.
func (l *rateLimiter) wrap(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait := l.reserve(r, 1); wait > 0 {
			l.refuse(w, wait)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers 429: the client may retry after wait.
func (l *rateLimiter) refuse(w http.ResponseWriter, wait time.Duration) {
	l.metrics.Limited(metrics.LimitRate)
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	http.Error(w, fmt.Sprintf("429 Too Many Requests: this client is over the rate limit of %s requests per second (burst %d); retry after %d s, and space out requests",
		strconv.FormatFloat(float64(l.limit), 'g', -1, 64), l.burst, secs), http.StatusTooManyRequests)
}

// reserve takes n tokens for the request's client, or returns how long
// until they are available (taking none). n must not exceed the burst.
func (l *rateLimiter) reserve(r *http.Request, n int) time.Duration {
	if l == nil || n <= 0 {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	c := l.client(r, now)
	l.mu.Unlock()
	if c == nil {
		return 0
	}
	res := c.lim.ReserveN(now, n)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// client returns the limiter of the request's client, nil for an
// unauthenticated caller on this machine, which is not limited; l.mu is
// held.
func (l *rateLimiter) client(r *http.Request, now time.Time) *clientLimiter {
	if now.Sub(l.lastSweep) > limiterSweepEvery || len(l.bySubject)+len(l.byIP) >= maxLimiterClients {
		l.sweep(now)
	}
	var c *clientLimiter
	if ti := auth.TokenInfoFromContext(r.Context()); ti != nil && ti.UserID != "" {
		if c = l.bySubject[ti.UserID]; c == nil {
			c = l.newClient()
			l.bySubject[ti.UserID] = c
		}
	} else {
		ip := l.ips.clientIP(r)
		if ip.IsLoopback() {
			// A caller on this machine: the developer, a local test or
			// benchmark, a health probe. The limit is for remote clients;
			// a proxy or tunnel here passes theirs in X-Forwarded-For.
			return nil
		}
		if c = l.byIP[ip]; c == nil {
			c = l.newClient()
			l.byIP[ip] = c
		}
	}
	c.seen = now
	return c
}

func (l *rateLimiter) newClient() *clientLimiter {
	return &clientLimiter{lim: rate.NewLimiter(l.limit, l.burst)}
}

// sweep evicts idle clients, then arbitrary ones when still at the bound.
func (l *rateLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, c := range l.bySubject {
		if now.Sub(c.seen) > l.idle {
			delete(l.bySubject, k)
		}
	}
	for k, c := range l.byIP {
		if now.Sub(c.seen) > l.idle {
			delete(l.byIP, k)
		}
	}
	// Still full: drop a tenth, so that a flood of new addresses does not
	// make every request sweep.
	keep := maxLimiterClients * 9 / 10
	for k := range l.byIP {
		if len(l.bySubject)+len(l.byIP) <= keep {
			break
		}
		delete(l.byIP, k)
	}
	for k := range l.bySubject {
		if len(l.bySubject)+len(l.byIP) <= keep {
			break
		}
		delete(l.bySubject, k)
	}
}

// size returns the number of clients tracked (tests).
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.bySubject) + len(l.byIP)
}

// clientIPs finds a request's client address: the TCP peer, or, when the
// peer is a trusted proxy, the right-most X-Forwarded-For entry that is not
// a trusted proxy (entries left of it could be forged by the client).
type clientIPs struct {
	trusted []netip.Prefix
}

// clientIP returns the client address; IPv6 addresses are cut to their /64,
// which one client usually holds whole.
func (c clientIPs) clientIP(r *http.Request) netip.Addr {
	ip := peerIP(r.RemoteAddr)
	if c.isTrusted(ip) {
		ip = c.forwardedFor(r.Header.Values("X-Forwarded-For"), ip)
	}
	if ip.Is6() && !ip.Is4In6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip.Unmap()
}

// forwardedFor walks the X-Forwarded-For entries from the right, skipping
// trusted proxies; an unreadable entry stops the walk at the hop that sent it.
func (c clientIPs) forwardedFor(values []string, peer netip.Addr) netip.Addr {
	ip := peer
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for v != "" {
			var entry string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				entry, v = v[j+1:], v[:j]
			} else {
				entry, v = v, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, err := parseForwardedIP(entry)
			if err != nil {
				return ip
			}
			ip = a.Unmap()
			if !c.isTrusted(ip) {
				return ip
			}
		}
	}
	return ip
}

// parseForwardedIP reads "1.2.3.4", "2001:db8::1", "1.2.3.4:5678" or "[2001:db8::1]:5678".
func parseForwardedIP(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, nil
	}
	ap, err := netip.ParseAddrPort(s)
	return ap.Addr(), err
}

func (c clientIPs) isTrusted(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	for _, p := range c.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// peerIP parses http.Request.RemoteAddr; an unreadable one (not from a TCP
// listener) is the zero Addr, a client of its own.
func peerIP(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(remote)
	return a.Unmap()
}

// ParseTrustedProxies reads a comma-separated list of CIDRs or addresses
// ("10.0.0.0/8, 192.168.1.7, fd00::/8"); "" and "none" are none.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// limitBody refuses request bodies over max bytes (MAX_BODY_BYTES) with 413:
// at once when Content-Length says so, else when reading passes the limit
// (http.MaxBytesReader; the SDK answers 413, which gets our message).
func limitBody(max int64, m *metrics.Metrics, next http.Handler) http.Handler {
	if max <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			m.Limited(metrics.LimitBodySize)
			tooLarge(w, r.ContentLength, max)
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		if r.ContentLength < 0 { // unknown length: only a read finds out
			w = &bodyLimitWriter{ResponseWriter: w, body: r.Body, max: max}
		}
		next.ServeHTTP(w, r)
		if overLimit(r.Body) {
			m.Limited(metrics.LimitBodySize)
		}
	})
}

// overLimit reports whether a body from http.MaxBytesReader ran into its
// limit: the reader keeps its error, and an empty read returns it.
func overLimit(body io.Reader) bool {
	_, err := body.Read(nil)
	_, over := err.(*http.MaxBytesError)
	return over
}

func tooLarge(w http.ResponseWriter, size, max int64) {
	what := "the request body is"
	if size >= 0 {
		what = fmt.Sprintf("the request body is %d bytes,", size)
	}
	http.Error(w, fmt.Sprintf("413 Request Entity Too Large: %s over this server's limit of %d bytes (MAX_BODY_BYTES); send a smaller message",
		what, max), http.StatusRequestEntityTooLarge)
}

// bodyLimitWriter replaces the SDK's 413 answer to a body that ran into
// MAX_BODY_BYTES with one that names the setting.
type bodyLimitWriter struct {
	http.ResponseWriter
	body     io.Reader
	max      int64
	replaced bool
}

func (b *bodyLimitWriter) WriteHeader(code int) {
	if code == http.StatusRequestEntityTooLarge && !b.replaced && overLimit(b.body) {
		b.replaced = true
		tooLarge(b.ResponseWriter, -1, b.max)
		return
	}
	b.ResponseWriter.WriteHeader(code)
}

func (b *bodyLimitWriter) Write(p []byte) (int, error) {
	if b.replaced {
		return len(p), nil
	}
	return b.ResponseWriter.Write(p)
}

func (b *bodyLimitWriter) Unwrap() http.ResponseWriter { return b.ResponseWriter }
