// Package toolcall holds what the search and fetch tools share: their
// annotations, how a store error becomes a sentence the model can act on,
// and the one log line each tool call writes.
package toolcall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

// ReadOnly returns the annotations of a tool that only reads the collection.
// Every hint is explicit: ChatGPT treats a tool without readOnlyHint as a
// write action that needs confirmation (CLIENTS.md).
func ReadOnly(title string) *mcp.ToolAnnotations {
	no := false
	return &mcp.ToolAnnotations{
		Title:           title,
		ReadOnlyHint:    true,
		DestructiveHint: &no,
		IdempotentHint:  true,
		OpenWorldHint:   &no,
	}
}

// Error classes, logged with every failed call.
const (
	ClassInvalidArgument = "invalid_argument"
	ClassNotFound        = "not_found"
	ClassTimeout         = "timeout"
	ClassCanceled        = "canceled"
	ClassStore           = "store_error"
	ClassInternal        = "internal"
)

// Error is a tool error: Message is shown to the model, Class and Err go to the log.
type Error struct {
	Class   string
	Message string
	Err     error // the cause, for the log only; may be nil
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Invalid returns an invalid-argument error with the message.
func Invalid(format string, args ...any) *Error {
	return &Error{Class: ClassInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// FromStore classifies an error from a store call. what is the tool,
// "search" or "fetch": it names the operation and picks the advice. Details
// stay in Err, never in Message.
//
// A store.Unavailable carries its own reason, which comes first: an
// upstream service that ran out of time (openaistore's "upstream_timeout")
// is not helped by other words.
func FromStore(what string, err error) *Error {
	var u *store.Unavailable
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Class: ClassNotFound, Message: "not found", Err: err}
	case errors.As(err, &u):
		return &Error{Class: u.Class, Message: u.Reason, Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Class: ClassTimeout, Err: err, Message: timeoutMessage(what)}
	case errors.Is(err, context.Canceled):
		return &Error{Class: ClassCanceled, Message: fmt.Sprintf("the %s was cancelled", what), Err: err}
	default:
		var te *Error
		if errors.As(err, &te) {
			return te
		}
		return &Error{Class: ClassStore, Err: err,
			Message: fmt.Sprintf("the document store could not complete the %s; try again shortly", what)}
	}
}

// timeoutMessage says that a call ran out of time and what helps: fewer or
// more specific words help a search; a fetch's id is not the caller's to
// shorten.
func timeoutMessage(what string) string {
	if what == "search" {
		return "the search took too long and was stopped; try again, or use fewer or more specific words"
	}
	return "the document could not be read in time; try again shortly"
}

// Outcome receives what Log learns of a call (its error class, "" for a
// success, and its result count), for the middleware that put it in the
// call's context with WithOutcome: the metrics.
type Outcome struct {
	Class   string
	Results int
}

type outcomeKey struct{}

// WithOutcome returns ctx in which Log fills o.
func WithOutcome(ctx context.Context, o *Outcome) context.Context {
	return context.WithValue(ctx, outcomeKey{}, o)
}

// Log writes the one line a tool call leaves: tool, latency, result count,
// error class and caller, the LogID of ctx's access.Caller (a hash of its
// principals: never its token, subject or email). attrs add tool-specific
// facts; never put secrets in them, and only put user text in them at debug
// level (see Debug).
func Log(ctx context.Context, logger *slog.Logger, start time.Time, results int, err error, attrs ...any) {
	o, _ := ctx.Value(outcomeKey{}).(*Outcome)
	if o != nil {
		o.Results = results
	}
	attrs = append(attrs, "duration_ms", float64(time.Since(start).Microseconds())/1000, "results", results,
		"caller", access.FromContext(ctx).LogID())
	if err == nil {
		logger.InfoContext(ctx, "tool call", attrs...)
		return
	}
	class := ClassInternal
	var te *Error
	if errors.As(err, &te) {
		class = te.Class
		if te.Err != nil {
			attrs = append(attrs, "err", te.Err)
		}
	}
	if o != nil {
		o.Class = class
	}
	attrs = append(attrs, "error_class", class)
	level := slog.LevelInfo
	switch class {
	case ClassStore, ClassInternal, "upstream_auth", "store_missing", "upstream_error", "index_damaged":
		level = slog.LevelError
	case "rate_limited", "upstream_timeout":
		level = slog.LevelWarn
	}
	logger.Log(ctx, level, "tool call", attrs...)
}

// Debug returns attrs only when the logger is at debug level: user text (the
// query) is logged there and nowhere else.
func Debug(ctx context.Context, logger *slog.Logger, attrs ...any) []any {
	if logger.Enabled(ctx, slog.LevelDebug) {
		return attrs
	}
	return nil
}

// Recover turns a panic in a tool handler into an internal tool error, so a
// bug fails one call and never the server. Use as: defer toolcall.Recover(&err).
func Recover(err *error) {
	if r := recover(); r != nil {
		*err = &Error{Class: ClassInternal, Message: "the connector hit an internal error; try again, and report it if it persists",
			Err: fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
	}
}
