// Command connector is an MCP server that lets ChatGPT, deep research and the
// OpenAI Responses API search and fetch a private document collection.
//
//	connector [serve]            run the server (the default)
//	connector index PATH|URL...  build or update the index from files, folders and websites
//	connector search QUERY       print what the search tool returns
//	connector fetch ID           print what the fetch tool returns
//	connector healthcheck        exit 0 when a running server answers /healthz
//	connector version            print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/cli"
	"github.com/connectorhq/connector/internal/embed"
	"github.com/connectorhq/connector/internal/metrics"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1 // the command ran and failed (or, for index, some files failed)
	exitUsage    = 2 // bad flags, arguments or configuration: nothing was done
	exitNotFound = 3 // fetch: no such document
)

func main() {
	os.Exit(run(cli.SignalContext(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// env is what a command needs from the process: arguments, output streams
// and the environment (only run reads os.Getenv).
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

const usage = `connector: an MCP server with search and fetch tools over your documents.

Usage:
  connector [serve] [flags]        run the server (default command)
  connector index [flags] PATH|URL...
                                   index files, folders and websites (or SOURCES)
  connector search [flags] QUERY   print the JSON the search tool returns
  connector fetch [flags] ID       print the JSON the fetch tool returns
  connector healthcheck [--ready]  exit 0 when the server answers /healthz (/readyz)
  connector version                print the version
  connector help [COMMAND]         print this, or a command's flags

Run "connector help COMMAND" or "connector COMMAND -h" for a command's
flags. Every flag also reads an environment variable, and a .env file in
the working directory (see .env.example); a flag wins over the
environment, which wins over .env.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdout: stdout, stderr: stderr, getenv: getenv}
	cmd := "serve"
	if len(args) > 0 && (len(args[0]) == 0 || args[0][0] != '-' || isHelpFlag(args[0])) {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return e.serve(ctx, args)
	case "index":
		return e.index(ctx, args)
	case "search":
		return e.search(ctx, args)
	case "fetch":
		return e.fetch(ctx, args)
	case "bench":
		fmt.Fprintln(stderr, "connector: bench is a command of its own now: go run ./cmd/connector-bench [flags] FOLDER")
		return exitUsage
	case "healthcheck":
		return e.healthcheck(ctx, args)
	case "version":
		fmt.Fprintln(stdout, "connector", buildVersion())
		return exitOK
	case "help", "-h", "-help", "--help":
		if cmd != "help" || len(args) == 0 {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		switch args[0] {
		case "serve", "index", "search", "fetch", "healthcheck":
			// Asked for, the help goes to stdout.
			return run(ctx, []string{args[0], "-h"}, stdout, stdout, getenv)
		case "version", "help":
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "connector help: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "connector: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// command is what each subcommand parses first: its flags, the .env file and
// the configuration.
type command struct {
	cfg    config
	logger *slog.Logger
	args   []string
	// metrics is set by serve; other commands record none.
	metrics *metrics.Metrics
	// caller is who search and fetch read as (access.Everyone unless --as).
	caller access.Caller
	// embedder embeds passages and queries for the local index's semantic
	// search (EMBEDDINGS); nil: keywords only. See withEmbedder.
	embedder embed.Embedder
}

// setup parses a command's flags, the .env file and the configuration. When
// ok is false the command must stop and exit with code: after -h (0), or
// with the problems printed (exitUsage).
func (e env) setup(name, synopsis string, sc scope, args []string, extra func(*flag.FlagSet)) (cmd command, code int, ok bool) {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(e.stderr)
	envFile := cli.EnvFileFlag(flags)
	vals := addFlags(flags, sc)
	if extra != nil {
		extra(flags)
	}
	flags.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: connector %s\n\nFlags:\n", synopsis)
		cli.PrintFlags(e.stderr, flags)
	}
	positional, err := cli.Parse(flags, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return command{}, exitOK, false
	case err != nil:
		return command{}, exitUsage, false
	}
	given := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { given[f.Name] = true })

	getenv, err := cli.Getenv(e.getenv, *envFile, given["env-file"])
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: %v\n", name, err)
		return command{}, exitUsage, false
	}
	cfg, err := loadConfig(getenv, vals, given, sc)
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: invalid configuration:\n  %s\n", name, strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return command{}, exitUsage, false
	}
	if sc == forQuery && !given["log-level"] && getenv("LOG_LEVEL") == "" {
		cfg.LogLevel = slog.LevelWarn // search and fetch print JSON; keep stderr for problems
	}
	return command{cfg: cfg, logger: cli.NewLogger(e.stderr, cfg.LogLevel, cfg.LogFormat), args: positional}, exitOK, true
}

// buildVersion is the stamped version, else the module version when built
// with go install, else "dev".
func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}
