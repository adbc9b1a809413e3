package mcpserver

import (
	"context"
	"log/slog"
)

// sdkLogger returns the logger handed to the SDK. The SDK logs every session
// connect and disconnect at info level, and a stateless server has a session
// per request, so those lines go to debug. It logs some client mistakes at
// error level (clientMistakes): those go to warn, in words that say whose
// mistake it is. Other warnings and errors stay.
func sdkLogger(l *slog.Logger) *slog.Logger {
	return slog.New(sdkHandler{l.Handler()})
}

// clientMistakes rewords the SDK's error-level lines about a client that
// breaks the protocol; the client gets a JSON-RPC error, the server is fine.
var clientMistakes = map[string]string{
	"method invalid during initialization": "client called a method before initialize; it got a JSON-RPC error (a client bug, or a client that lost its session)",
	"initialized before initialize":        "client sent notifications/initialized before initialize; ignored",
	"duplicate initialized notification":   "client sent notifications/initialized twice; ignored",
	"duplicate initialize request":         "client sent initialize twice on one session; it got a JSON-RPC error",
	"method removed in the new protocol":   "client called a method that protocol 2026-07-28 removed; it got a JSON-RPC error",
}

type sdkHandler struct{ slog.Handler }

func (d sdkHandler) Enabled(ctx context.Context, level slog.Level) bool {
	if level == slog.LevelInfo {
		level = slog.LevelDebug
	}
	return d.Handler.Enabled(ctx, level)
}

func (d sdkHandler) Handle(ctx context.Context, r slog.Record) error {
	switch msg, mistake := clientMistakes[r.Message]; {
	case r.Level == slog.LevelInfo:
		r.Level = slog.LevelDebug
	case r.Level == slog.LevelError && mistake:
		r.Level, r.Message = slog.LevelWarn, msg
		if !d.Handler.Enabled(ctx, r.Level) { // Enabled saw only the error level
			return nil
		}
	}
	return d.Handler.Handle(ctx, r)
}

func (d sdkHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return sdkHandler{d.Handler.WithAttrs(attrs)}
}

func (d sdkHandler) WithGroup(name string) slog.Handler { return sdkHandler{d.Handler.WithGroup(name)} }
