// Package requestid carries a request's id in its context and adds it to
// every log record written with that context, so the lines of one request
// can be found together (and matched with a reverse proxy's log).
package requestid

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strconv"
	"sync/atomic"
)

// Header is the HTTP header that carries the id, in and out.
const Header = "X-Request-Id"

// MaxLen is the longest incoming id accepted.
const MaxLen = 128

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Valid reports whether an incoming id is safe to log and echo: 1 to MaxLen
// characters of [A-Za-z0-9._-] (nginx's $request_id, UUIDs, Caddy's ids).
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Generator makes ids unique within the process and, by a random prefix,
// across restarts: "<prefix>-<counter>". It costs one small allocation.
type Generator struct {
	prefix string
	n      atomic.Uint64
}

// NewGenerator returns a generator with a fresh random prefix.
func NewGenerator() *Generator {
	return &Generator{prefix: rand.Text()[:10]}
}

// Next returns a new id.
func (g *Generator) Next() string {
	var buf [32]byte
	b := append(buf[:0], g.prefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, g.n.Add(1), 36)
	return string(b)
}

// Handler wraps a slog.Handler: each record logged with a context carrying
// an id gets a request_id attribute.
func Handler(h slog.Handler) slog.Handler {
	if _, ok := h.(handler); ok {
		return h
	}
	return handler{h}
}

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id := From(ctx); id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}
func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }
