package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/fetch"
	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/search"
	"github.com/connectorhq/connector/internal/store/openaistore"
)

// config is everything the commands read from flags, the environment and .env.
type config struct {
	Addr            string
	Store           string // "bleve" | "openai"
	IndexDir        string
	PublicBaseURL   string
	AllowedHosts    []string
	MaxResults      int
	MaxQueryBytes   int
	MaxFetchChars   int
	ToolTimeout     time.Duration
	ShutdownTimeout time.Duration
	SSEKeepAlive    time.Duration
	ReloadInterval  time.Duration
	MaxFileBytes    int64
	SampleCorpus    bool
	LogLevel        slog.Level
	LogFormat       string // "auto" | "text" | "json"
	OpenAIKey       string // secret: never logged
	VectorStoreID   string
	OpenAIBaseURL   string
	OpenAIOrg       string
	OpenAIProject   string
	OpenAITimeout   time.Duration
	OpenAIRetries   int
	RewriteQuery    bool
	ScoreThreshold  float64
	CacheBytes      int64
	CacheTTL        time.Duration
	UploadWorkers   int
}

// scope says which commands a setting applies to.
type scope uint8

const (
	forServe scope = 1 << iota
	forIndex
	forQuery // search and fetch
	forBench // bench: only logging applies
	forAll   = forServe | forIndex | forQuery
)

// setting is one configuration variable: its environment name, its flag,
// its default and how it is parsed. The table below is the single source of
// truth for flags, validation and .env.example.
type setting struct {
	env, flag, def, usage string
	scope                 scope
	secret                bool
	apply                 func(c *config, v string) error
}

var settings = []setting{
	{env: "ADDR", flag: "addr", def: "127.0.0.1:8000", scope: forServe | forQuery,
		usage: "host:port to listen on; 0.0.0.0:8000 listens on every interface",
		apply: func(c *config, v string) error {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return fmt.Errorf("%q is not host:port, e.g. 127.0.0.1:8000 or :8000", v)
			}
			c.Addr = v
			return nil
		}},
	{env: "STORE", flag: "store", def: "bleve", scope: forAll,
		usage: `document store: "bleve" (embedded index on disk) or "openai" (an OpenAI vector store)`,
		apply: func(c *config, v string) error {
			v = strings.ToLower(v)
			if v != "bleve" && v != "openai" {
				return fmt.Errorf(`%q: want "bleve" or "openai"`, v)
			}
			c.Store = v
			return nil
		}},
	{env: "INDEX_DIR", flag: "index", def: "data/index", scope: forAll,
		usage: "folder of the bleve index",
		apply: func(c *config, v string) error { c.IndexDir = v; return nil }},
	{env: "PUBLIC_BASE_URL", flag: "public-base-url", def: "", scope: forServe | forQuery,
		usage: "public URL of this server (e.g. https://docs.example.com or your tunnel's URL): citation links for documents without their own URL, and an allowed Host",
		apply: func(c *config, v string) error {
			if v == "" {
				return nil
			}
			if _, err := docurl.ParseBase(v); err != nil {
				return err
			}
			c.PublicBaseURL = strings.TrimSuffix(v, "/")
			return nil
		}},
	{env: "ALLOWED_HOSTS", flag: "allowed-hosts", def: "", scope: forServe,
		usage: `comma-separated Host names accepted besides localhost ("*.example.com" for subdomains, "*" for any)`,
		apply: func(c *config, v string) error {
			c.AllowedHosts = nil
			for _, h := range strings.Split(v, ",") {
				if h = strings.TrimSpace(h); h != "" {
					if strings.ContainsAny(h, "/ ") {
						return fmt.Errorf("%q is not a host name: give names like tunnel.example.com, without scheme or path", h)
					}
					c.AllowedHosts = append(c.AllowedHosts, h)
				}
			}
			return nil
		}},
	{env: "MAX_RESULTS", flag: "max-results", def: strconv.Itoa(search.DefaultMaxResults), scope: forServe | forQuery,
		usage: fmt.Sprintf("results per search, 1 to %d", search.MaxMaxResults),
		apply: intSetting(func(c *config, n int) { c.MaxResults = n }, 1, search.MaxMaxResults)},
	{env: "MAX_QUERY_BYTES", flag: "max-query-bytes", def: "2048", scope: forServe | forQuery,
		usage: "longest search query accepted, in bytes",
		apply: intSetting(func(c *config, n int) { c.MaxQueryBytes = n }, 16, 1<<20)},
	{env: "MAX_FETCH_CHARS", flag: "max-fetch-chars", def: strconv.Itoa(fetch.DefaultMaxChars), scope: forServe | forQuery,
		usage: "most characters of text one fetch returns; longer documents come in parts",
		apply: intSetting(func(c *config, n int) { c.MaxFetchChars = n }, 1000, 100_000_000)},
	{env: "TOOL_TIMEOUT", flag: "tool-timeout", def: "30s", scope: forServe | forQuery,
		usage: "time limit of one search or fetch",
		apply: durationSetting(func(c *config, d time.Duration) { c.ToolTimeout = d }, time.Millisecond)},
	{env: "SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", def: "15s", scope: forServe,
		usage: "on SIGINT/SIGTERM, how long tool calls in flight get to finish",
		apply: durationSetting(func(c *config, d time.Duration) { c.ShutdownTimeout = d }, time.Millisecond)},
	{env: "SSE_KEEPALIVE", flag: "sse-keepalive", def: "15s", scope: forServe,
		usage: "interval of keep-alive comments on SSE streams (0 turns them off)",
		apply: durationSetting(func(c *config, d time.Duration) { c.SSEKeepAlive = d }, 0)},
	{env: "INDEX_RELOAD_INTERVAL", flag: "reload-interval", def: "5s", scope: forServe,
		usage: "how often the server checks for an index built by `connector index` (0 turns it off)",
		apply: durationSetting(func(c *config, d time.Duration) { c.ReloadInterval = d }, 0)},
	{env: "MAX_FILE_BYTES", flag: "max-file-bytes", def: strconv.Itoa(ingest.DefaultMaxFileBytes), scope: forIndex | forServe,
		usage: "larger files are skipped when indexing (JSON Lines files stream and are exempt)",
		apply: func(c *config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("%q: want a positive number of bytes, e.g. 33554432", v)
			}
			c.MaxFileBytes = n
			return nil
		}},
	{env: "SAMPLE_CORPUS", flag: "sample-corpus", def: "true", scope: forServe,
		usage: "when the index folder holds no index, build one from the bundled sample documents",
		apply: func(c *config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q: want true or false", v)
			}
			c.SampleCorpus = b
			return nil
		}},
	{env: "LOG_LEVEL", flag: "log-level", def: "info", scope: forAll | forBench,
		usage: "debug, info, warn or error (queries are logged only at debug)",
		apply: func(c *config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%q: want debug, info, warn or error", v)
			}
			return nil
		}},
	{env: "LOG_FORMAT", flag: "log-format", def: "auto", scope: forAll | forBench,
		usage: `"text", "json", or "auto" (text on a terminal, JSON otherwise)`,
		apply: func(c *config, v string) error {
			v = strings.ToLower(v)
			if v != "auto" && v != "text" && v != "json" {
				return fmt.Errorf(`%q: want "auto", "text" or "json"`, v)
			}
			c.LogFormat = v
			return nil
		}},
	{env: "OPENAI_API_KEY", def: "", scope: forAll, secret: true,
		usage: "API key for STORE=openai (environment or .env only: flags are visible to other users)",
		apply: func(c *config, v string) error { c.OpenAIKey = v; return nil }},
	{env: "VECTOR_STORE_ID", flag: "vector-store", def: "", scope: forAll,
		usage: "id of the OpenAI vector store for STORE=openai (vs_...); `connector index` creates one when unset",
		apply: func(c *config, v string) error { c.VectorStoreID = v; return nil }},
	{env: "OPENAI_BASE_URL", flag: "openai-base-url", def: openaistore.DefaultBaseURL, scope: forAll,
		usage: "OpenAI API base URL (a proxy or gateway)",
		apply: func(c *config, v string) error {
			if !docurl.IsCitable(v) {
				return fmt.Errorf("%q is not an absolute http(s) URL", v)
			}
			c.OpenAIBaseURL = v
			return nil
		}},
	{env: "OPENAI_ORG_ID", def: "", scope: forAll,
		usage: "OpenAI organization id sent with each request (optional)",
		apply: func(c *config, v string) error { c.OpenAIOrg = v; return nil }},
	{env: "OPENAI_PROJECT_ID", def: "", scope: forAll,
		usage: "OpenAI project id sent with each request (optional)",
		apply: func(c *config, v string) error { c.OpenAIProject = v; return nil }},
	{env: "OPENAI_TIMEOUT", flag: "openai-timeout", def: "20s", scope: forAll,
		usage: "time limit of each OpenAI API request attempt",
		apply: durationSetting(func(c *config, d time.Duration) { c.OpenAITimeout = d }, time.Millisecond)},
	{env: "OPENAI_MAX_RETRIES", flag: "openai-max-retries", def: "2", scope: forAll,
		usage: "retries of an OpenAI request on 408/409/429/5xx, honouring Retry-After",
		apply: intSetting(func(c *config, n int) { c.OpenAIRetries = n }, 0, 10)},
	{env: "OPENAI_REWRITE_QUERY", flag: "rewrite-query", def: "false", scope: forServe | forQuery,
		usage: "let OpenAI rewrite search queries for vector search",
		apply: func(c *config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q: want true or false", v)
			}
			c.RewriteQuery = b
			return nil
		}},
	{env: "OPENAI_SCORE_THRESHOLD", flag: "score-threshold", def: "0", scope: forServe | forQuery,
		usage: "drop vector store chunks scoring below this (0 to 1; 0 keeps all)",
		apply: func(c *config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return fmt.Errorf("%q: want a number from 0 to 1", v)
			}
			c.ScoreThreshold = f
			return nil
		}},
	{env: "OPENAI_CACHE_BYTES", flag: "cache-bytes", def: strconv.Itoa(openaistore.DefaultCacheBytes), scope: forServe,
		usage: "memory for documents fetched from OpenAI, in bytes",
		apply: func(c *config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1<<20 {
				return fmt.Errorf("%q: want a number of bytes, at least 1048576", v)
			}
			c.CacheBytes = n
			return nil
		}},
	{env: "OPENAI_CACHE_TTL", flag: "cache-ttl", def: "10m", scope: forServe,
		usage: "how long a document fetched from OpenAI is reused",
		apply: durationSetting(func(c *config, d time.Duration) { c.CacheTTL = d }, time.Second)},
	{env: "OPENAI_UPLOAD_CONCURRENCY", flag: "upload-concurrency", def: "4", scope: forIndex,
		usage: "documents uploaded at once by `connector index --store openai`",
		apply: intSetting(func(c *config, n int) { c.UploadWorkers = n }, 1, 32)},
}

func intSetting(set func(*config, int), lo, hi int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q: want a whole number from %d to %d", v, lo, hi)
		}
		set(c, n)
		return nil
	}
}

func durationSetting(set func(*config, time.Duration), lo time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || (lo > 0 && d == 0) {
			return fmt.Errorf("%q: want a duration such as 500ms, 30s or 2m", v)
		}
		set(c, d)
		return nil
	}
}

// addFlags defines the flags of the settings in scope on fs and returns
// their values; a flag counts only when it was given.
func addFlags(fs *flag.FlagSet, sc scope) map[string]*string {
	vals := map[string]*string{}
	for _, s := range settings {
		if s.flag == "" || s.scope&sc == 0 {
			continue
		}
		vals[s.flag] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def))
	}
	return vals
}

// loadConfig resolves every setting in scope: a given flag wins, then the
// variable from getenv (the environment, then .env), then the default. It
// reports every invalid value at once.
func loadConfig(getenv func(string) string, flags map[string]*string, given map[string]bool, sc scope) (config, error) {
	var c config
	var errs []error
	for _, s := range settings {
		if s.scope&sc == 0 {
			continue
		}
		v, from := s.def, "default"
		if e := getenv(s.env); e != "" {
			v, from = e, s.env
		}
		if p := flags[s.flag]; p != nil && given[s.flag] {
			v, from = *p, "--"+s.flag
		}
		if err := s.apply(&c, strings.TrimSpace(v)); err != nil {
			if s.secret {
				err = errors.New("invalid value")
			}
			errs = append(errs, fmt.Errorf("%s: %w", cmp.Or(from, s.env), err))
		}
	}
	if c.Store == "openai" {
		if c.OpenAIKey == "" {
			errs = append(errs, errors.New("STORE=openai needs OPENAI_API_KEY: set it in the environment or .env"))
		}
		if c.VectorStoreID == "" && sc&(forServe|forQuery) != 0 {
			errs = append(errs, errors.New("STORE=openai needs VECTOR_STORE_ID (vs_...): set it in the environment or .env, or run `connector index --store openai PATH...` to create one"))
		}
	}
	return c, errors.Join(errs...)
}

// LogValue keeps secrets out of every log line.
func (c config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("store", c.Store),
		slog.String("index_dir", c.IndexDir),
		slog.String("public_base_url", c.PublicBaseURL),
		slog.Any("allowed_hosts", c.AllowedHosts),
		slog.Int("max_results", c.MaxResults),
		slog.Int("max_fetch_chars", c.MaxFetchChars),
		slog.String("tool_timeout", c.ToolTimeout.String()),
		slog.Bool("openai_key_set", c.OpenAIKey != ""),
		slog.String("vector_store_id", c.VectorStoreID),
		slog.String("openai_base_url", c.OpenAIBaseURL),
	)
}
