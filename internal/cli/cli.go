// Package cli is the command line that connector and connector-bench share:
// flags before or after the arguments, a .env file under the environment,
// and the logger on stderr.
package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/joho/godotenv"
	"golang.org/x/term"

	"github.com/connectorhq/connector/internal/requestid"
)

// SignalContext is cancelled by the first SIGINT or SIGTERM; a second one
// kills the process the default way.
func SignalContext() context.Context {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx
}

// EnvFileFlag defines --env-file on flags.
func EnvFileFlag(flags *flag.FlagSet) *string {
	return StringVar(flags, "env-file", "file", ".env", "file of KEY=VALUE settings, read after the environment (a missing .env is fine)")
}

// Parse parses args with flags, which may come before or after the
// positional arguments ("index ./docs --prune"), and returns the
// positional arguments.
func Parse(flags *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := flags.Parse(args); err != nil {
			return nil, err
		}
		args = flags.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// Getenv reads the KEY=VALUE file and returns a lookup in which a
// non-empty variable of getenv (the environment) wins over the file's. A
// missing file is fine unless required (named on the command line).
func Getenv(getenv func(string) string, file string, required bool) (func(string) string, error) {
	dotenv, err := godotenv.Read(file)
	if err != nil && (required || !errors.Is(err, fs.ErrNotExist)) {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return func(k string) string { return cmp.Or(getenv(k), dotenv[k]) }, nil
}

// What LOG_LEVEL and LOG_FORMAT (--log-level, --log-format) take.
const (
	LogLevelUsage  = "debug, info, warn or error (queries are logged only at debug)"
	LogFormatUsage = `"text", "json", or "auto" (text on a terminal, JSON otherwise)`
)

// ParseLogLevel reads a LOG_LEVEL value.
func ParseLogLevel(v string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return 0, fmt.Errorf("%q: want debug, info, warn or error", v)
	}
	return l, nil
}

// ParseLogFormat reads a LOG_FORMAT value.
func ParseLogFormat(v string) (string, error) {
	v = strings.ToLower(v)
	if v != "auto" && v != "text" && v != "json" {
		return "", fmt.Errorf(`%q: want "auto", "text" or "json"`, v)
	}
	return v, nil
}

// Logging is --log-level and --log-format over LOG_LEVEL and LOG_FORMAT,
// for a command without connector's settings table.
type Logging struct {
	flags         *flag.FlagSet
	level, format *string
}

// AddLogging defines --log-level and --log-format on flags.
func AddLogging(flags *flag.FlagSet) Logging {
	return Logging{
		flags:  flags,
		level:  StringVar(flags, "log-level", "level", "", fmt.Sprintf("%s (env LOG_LEVEL, default %q)", LogLevelUsage, "info")),
		format: StringVar(flags, "log-format", "format", "", fmt.Sprintf("%s (env LOG_FORMAT, default %q)", LogFormatUsage, "auto")),
	}
}

// Logger returns NewLogger(w, ...) with the level and format a given flag
// says, else getenv's variable, else info and auto. Its error names every
// bad value and where it came from.
func (l Logging) Logger(w io.Writer, getenv func(string) string) (*slog.Logger, error) {
	given := map[string]bool{}
	l.flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
	resolve := func(name, env, def string, flagValue *string, parse func(string) error) error {
		v, from := def, "default"
		if e := getenv(env); e != "" {
			v, from = e, env
		}
		if given[name] {
			v, from = *flagValue, "--"+name
		}
		if err := parse(strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		return nil
	}
	var level slog.Level
	var format string
	err := errors.Join(
		resolve("log-level", "LOG_LEVEL", "info", l.level, func(v string) (err error) {
			level, err = ParseLogLevel(v)
			return err
		}),
		resolve("log-format", "LOG_FORMAT", "auto", l.format, func(v string) (err error) {
			format, err = ParseLogFormat(v)
			return err
		}),
	)
	if err != nil {
		return nil, err
	}
	return NewLogger(w, level, format), nil
}

// NewLogger writes to w, which is stderr (stdout carries command output):
// text on a terminal, JSON otherwise, unless format says. A record logged
// with a request's context carries its request_id.
func NewLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "auto" || format == "" {
		format = "json"
		if IsTerminal(w) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(requestid.Handler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(requestid.Handler(slog.NewJSONHandler(w, opts)))
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
