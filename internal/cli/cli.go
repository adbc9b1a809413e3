// Package cli is the command line that connector and connector-bench share:
// flags before or after the arguments, a .env file under the environment,
// and the logger on stderr.
package cli

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/joho/godotenv"
	"golang.org/x/term"

	"github.com/connectorhq/connector/internal/requestid"
)

// EnvFileFlag defines --env-file on flags.
func EnvFileFlag(flags *flag.FlagSet) *string {
	return flags.String("env-file", ".env", "file of KEY=VALUE settings, read after the environment (a missing .env is fine)")
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
