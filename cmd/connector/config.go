package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/auth"
	"github.com/connectorhq/connector/internal/cli"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/embed"
	"github.com/connectorhq/connector/internal/fetch"
	"github.com/connectorhq/connector/internal/httpserver"
	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/search"
	"github.com/connectorhq/connector/internal/store/openaistore"
	"github.com/connectorhq/connector/internal/web"
)

// config is everything the commands read from flags, the environment and .env.
type config struct {
	// Abuse limits and metrics of serve.
	RateLimit      float64 // per client per second; 0 is off
	RateBurst      int
	TrustedProxies []netip.Prefix
	MaxSSESessions int
	// MaxSSESessionsPerClient is resolved by loadConfig: "auto" (-1 while
	// loading) becomes a quarter of MaxSSESessions.
	MaxSSESessionsPerClient int
	MaxBodyBytes            int64
	ReadHeaderTimeout       time.Duration
	CORSOrigins             []string
	MetricsToken            string // secret: never logged
	MetricsAddr             string

	// DefaultAccess decides who reads documents indexed without an access list.
	DefaultAccess access.Default
	// LinkSecret signs document-view links when authentication is on
	// (secret: never logged); LinkLifetime is how long a link opens.
	LinkSecret   string
	LinkLifetime time.Duration

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
	VerifyInterval  time.Duration
	MaxFileBytes    int64
	// Sources are the paths and website URLs `connector index` reads when
	// given none (SOURCES); the Web settings tune the crawl of websites.
	Sources        []string
	WebMaxPages    int
	WebConcurrency int
	WebDelay       time.Duration
	WebTimeout     time.Duration
	SampleCorpus   bool
	LogLevel       slog.Level
	LogFormat      string // "auto" | "text" | "json"
	OpenAIKey      string // secret: never logged
	VectorStoreID  string
	OpenAIBaseURL  string
	OpenAIOrg      string
	OpenAIProject  string
	OpenAITimeout  time.Duration
	OpenAIRetries  int
	RewriteQuery   bool
	ScoreThreshold float64
	CacheBytes     int64
	CacheTTL       time.Duration
	UploadWorkers  int
	AuthMode       auth.Mode
	APIKeys        []string // secret: never logged; entries "KEY [PRINCIPAL...]"
	// APIKeysFile is API_KEYS_FILE; APIKeyFileEntries are its entries.
	APIKeysFile       string
	APIKeyFileEntries []string // secret: never logged
	OAuthIssuer       string
	OAuthAudiences    []string
	OAuthScopes       []string
	OAuthClockSkew    time.Duration
	OAuthJWKSURL      string
	// OAuthGroupsClaim and OAuthRolesClaim name the token claims read for
	// group: and role: principals.
	OAuthGroupsClaim string
	OAuthRolesClaim  string

	// Watch are the sources serve keeps fresh: paths (watched for changes)
	// and http(s) URLs (crawled again every WatchInterval).
	Watch         []string
	WatchDebounce time.Duration
	WatchInterval time.Duration

	// Embeddings (EMBEDDINGS) chooses semantic search's embedder: "none",
	// "local" or "openai"; the other Embeddings settings configure it (see
	// embedConfig).
	Embeddings      string
	EmbeddingsModel string // "" means the provider's default model
	EmbeddingsDims  int    // 0 means the model's own
	// EmbeddingsModelDir and ONNXRuntimeLib are the local provider's model
	// folder and ONNX Runtime library.
	EmbeddingsModelDir, ONNXRuntimeLib string
	EmbeddingsBaseURL                  string
	EmbeddingsAPIKey                   string // secret: never logged; unset, OPENAI_API_KEY
}

// scope says which commands a setting applies to.
type scope uint8

const (
	forServe scope = 1 << iota
	forIndex
	forQuery // search and fetch
	forAll   = forServe | forIndex | forQuery
)

// setting is one configuration variable: its environment name, its flag,
// its default and how it is parsed. The table below is the single source of
// truth for flags, validation and .env.example.
type setting struct {
	env, flag, def, usage string
	// value is the word help shows for the flag's value: "int",
	// "duration", "bool", "float", or a word for a string such as "url".
	value string
	// queryUsage, when set, is the usage search and fetch show.
	queryUsage string
	scope      scope
	secret     bool
	apply      func(c *config, v string) error
}

var settings = []setting{
	{env: "ADDR", flag: "addr", value: "host:port", def: "127.0.0.1:8000", scope: forServe | forQuery,
		usage:      "host:port to listen on; 0.0.0.0:8000 listens on every interface",
		queryUsage: "host:port of the server, for the links of documents without their own URL when PUBLIC_BASE_URL is unset",
		apply: func(c *config, v string) error {
			if err := checkAddr(v, "127.0.0.1:8000 or :8000"); err != nil {
				return err
			}
			c.Addr = v
			return nil
		}},
	{env: "STORE", flag: "store", value: "name", def: "bleve", scope: forAll,
		usage: `document store: "bleve" (embedded index on disk) or "openai" (an OpenAI vector store)`,
		apply: func(c *config, v string) error {
			v = strings.ToLower(v)
			if v != "bleve" && v != "openai" {
				return fmt.Errorf(`%q: want "bleve" or "openai"`, v)
			}
			c.Store = v
			return nil
		}},
	{env: "INDEX_DIR", flag: "index", value: "dir", def: "data/index", scope: forAll,
		usage: "folder of the bleve index",
		apply: func(c *config, v string) error { c.IndexDir = v; return nil }},
	{env: "PUBLIC_BASE_URL", flag: "public-base-url", value: "url", def: "", scope: forServe | forQuery,
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
	{env: "ALLOWED_HOSTS", flag: "allowed-hosts", value: "list", def: "", scope: forServe,
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
	{env: "AUTH_MODE", flag: "auth-mode", value: "mode", def: "none", scope: forServe,
		usage: `who may call the MCP endpoints: "none" (anyone who reaches the server), "apikey" (API_KEYS) or "oauth" (tokens from OAUTH_ISSUER)`,
		apply: func(c *config, v string) error {
			switch m := auth.Mode(strings.ToLower(v)); m {
			case auth.ModeNone, auth.ModeAPIKey, auth.ModeOAuth:
				c.AuthMode = m
				return nil
			}
			return fmt.Errorf(`%q: want "none", "apikey" or "oauth"`, v)
		}},
	{env: "API_KEYS", def: "", scope: forServe, secret: true,
		usage: fmt.Sprintf(`comma-separated API keys for AUTH_MODE=apikey, each at least %d characters and optionally followed by the principals its holder gets, separated by spaces ("KEY1 group:eng,KEY2 group:hr role:admin") (environment or .env only)`, auth.MinAPIKeyLen),
		apply: func(c *config, v string) error { c.APIKeys = splitList(v, ","); return nil }},
	{env: "API_KEYS_FILE", flag: "api-keys-file", value: "file", def: "", scope: forServe,
		usage: `file of API keys for AUTH_MODE=apikey, besides API_KEYS: one key per line, then the principals its holder gets separated by spaces ("KEY group:eng"); "#" starts a comment`,
		apply: func(c *config, v string) error {
			c.APIKeysFile, c.APIKeyFileEntries = v, nil
			if v == "" {
				return nil
			}
			f, err := os.Open(v)
			if err != nil {
				return err
			}
			defer f.Close()
			c.APIKeyFileEntries, err = auth.ParseAPIKeysFile(v, f)
			return err
		}},
	{env: "OAUTH_ISSUER", flag: "oauth-issuer", value: "url", def: "", scope: forServe,
		usage: "for AUTH_MODE=oauth: the identity provider's issuer URL, exactly as in its tokens' iss claim",
		apply: func(c *config, v string) error {
			if v != "" && !docurl.IsCitable(v) {
				return fmt.Errorf("%q is not an absolute http(s) URL, e.g. https://keycloak.example.com/realms/main", v)
			}
			c.OAuthIssuer = v
			return nil
		}},
	{env: "OAUTH_AUDIENCE", flag: "oauth-audience", value: "list", def: "", scope: forServe,
		usage: "comma-separated aud values accepted in access tokens (default: PUBLIC_BASE_URL and PUBLIC_BASE_URL/mcp and /sse)",
		apply: func(c *config, v string) error { c.OAuthAudiences = splitList(v, ","); return nil }},
	{env: "OAUTH_REQUIRED_SCOPES", flag: "oauth-required-scopes", value: "list", def: "", scope: forServe,
		usage: "scopes every access token must grant, separated by spaces or commas",
		apply: func(c *config, v string) error {
			c.OAuthScopes = splitList(strings.ReplaceAll(v, ",", " "), " ")
			return nil
		}},
	{env: "OAUTH_CLOCK_SKEW", flag: "oauth-clock-skew", value: "duration", def: "60s", scope: forServe,
		usage: "tolerance on access tokens' exp, nbf and iat, for clocks that disagree",
		apply: func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 10*time.Minute {
				return fmt.Errorf("%q: want a duration from 0s to 10m, e.g. 60s", v)
			}
			c.OAuthClockSkew = d
			return nil
		}},
	{env: "OAUTH_JWKS_URL", flag: "oauth-jwks-url", value: "url", def: "", scope: forServe,
		usage: "URL of the identity provider's signing keys (JWKS); unset, it is found through OAUTH_ISSUER's discovery metadata",
		apply: func(c *config, v string) error {
			if v != "" && !docurl.IsCitable(v) {
				return fmt.Errorf("%q is not an absolute http(s) URL", v)
			}
			c.OAuthJWKSURL = v
			return nil
		}},
	{env: "OAUTH_GROUPS_CLAIM", flag: "oauth-groups-claim", value: "name", def: "groups", scope: forServe,
		usage: `access token claim whose values become group: principals: a list or a string separated by spaces or commas; a literal name such as Auth0's "https://example.com/groups", else a dotted path into nested claims`,
		apply: claimSetting(func(c *config, v string) { c.OAuthGroupsClaim = v })},
	{env: "OAUTH_ROLES_CLAIM", flag: "oauth-roles-claim", value: "name", def: "roles", scope: forServe,
		usage: `access token claim whose values become role: principals, as OAUTH_GROUPS_CLAIM (Keycloak's realm roles: "realm_access.roles")`,
		apply: claimSetting(func(c *config, v string) { c.OAuthRolesClaim = v })},
	{env: "DEFAULT_ACCESS", flag: "default-access", value: "mode", def: "authenticated", scope: forServe | forQuery,
		usage: `who may read documents indexed without an access list: "authenticated" (any verified caller) or "none" (nobody); with AUTH_MODE=none every document is public`,
		apply: func(c *config, v string) error {
			d, err := access.ParseDefault(v)
			c.DefaultAccess = d
			return err
		}},
	{env: "MAX_RESULTS", flag: "max-results", value: "int", def: strconv.Itoa(search.DefaultMaxResults), scope: forServe | forQuery,
		usage: fmt.Sprintf("results per search, 1 to %d", search.MaxMaxResults),
		apply: intSetting(func(c *config, n int) { c.MaxResults = n }, 1, search.MaxMaxResults)},
	{env: "MAX_QUERY_BYTES", flag: "max-query-bytes", value: "int", def: "2048", scope: forServe | forQuery,
		usage: "longest search query accepted, in bytes",
		apply: intSetting(func(c *config, n int) { c.MaxQueryBytes = n }, 16, 1<<20)},
	{env: "MAX_FETCH_CHARS", flag: "max-fetch-chars", value: "int", def: strconv.Itoa(fetch.DefaultMaxChars), scope: forServe | forQuery,
		usage: "most characters of text one fetch returns; longer documents come in parts",
		apply: intSetting(func(c *config, n int) { c.MaxFetchChars = n }, 1000, 100_000_000)},
	{env: "TOOL_TIMEOUT", flag: "tool-timeout", value: "duration", def: "30s", scope: forServe | forQuery,
		usage: "time limit of one search or fetch",
		apply: durationSetting(func(c *config, d time.Duration) { c.ToolTimeout = d }, time.Millisecond)},
	{env: "SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", value: "duration", def: "15s", scope: forServe,
		usage: "on SIGINT/SIGTERM, how long tool calls in flight get to finish",
		apply: durationSetting(func(c *config, d time.Duration) { c.ShutdownTimeout = d }, time.Millisecond)},
	{env: "SSE_KEEPALIVE", flag: "sse-keepalive", value: "duration", def: "15s", scope: forServe,
		usage: "interval of keep-alive comments on SSE streams (0 turns them off)",
		apply: durationSetting(func(c *config, d time.Duration) { c.SSEKeepAlive = d }, 0)},
	{env: "RATE_LIMIT", flag: "rate-limit", value: "float", def: "20", scope: forServe,
		usage: "requests per second each client (token subject, else IP address) may make to the MCP endpoints and document view; more get 429 with Retry-After (0 turns the limit off; unauthenticated callers on this machine are not limited)",
		apply: func(c *config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1e6 || f != f {
				return fmt.Errorf("%q: want requests per second, e.g. 20 or 0.5 (0 turns the limit off)", v)
			}
			c.RateLimit = f
			return nil
		}},
	{env: "RATE_BURST", flag: "rate-burst", value: "int", def: "40", scope: forServe,
		usage: "requests a client may make at once above RATE_LIMIT before it is slowed down",
		apply: intSetting(func(c *config, n int) { c.RateBurst = n }, 1, 1_000_000)},
	{env: "TRUSTED_PROXIES", flag: "trusted-proxies", value: "list", def: "127.0.0.0/8,::1", scope: forServe,
		usage: `comma-separated IP addresses or CIDRs of your reverse proxies (e.g. 127.0.0.0/8,::1,172.16.0.0/12): only their X-Forwarded-For is believed when finding a client's IP for the rate limit ("none" trusts none)`,
		apply: func(c *config, v string) error {
			p, err := httpserver.ParseTrustedProxies(v)
			c.TrustedProxies = p
			return err
		}},
	{env: "MAX_SSE_SESSIONS", flag: "max-sse-sessions", value: "int", def: "1000", scope: forServe,
		usage: "open HTTP+SSE streams the server holds at most; more get 503 with Retry-After, open ones are never dropped (0: no cap)",
		apply: intSetting(func(c *config, n int) { c.MaxSSESessions = n }, 0, 1_000_000)},
	{env: "MAX_SSE_SESSIONS_PER_CLIENT", flag: "max-sse-sessions-per-client", value: "int", def: "auto", scope: forServe,
		usage: `open HTTP+SSE streams one client (token subject, else IP address, as for RATE_LIMIT) may hold; more get 429 with Retry-After. "auto": a quarter of MAX_SSE_SESSIONS, at least 1 (no cap when MAX_SSE_SESSIONS is 0); 0: no cap; unauthenticated callers on this machine are exempt`,
		apply: func(c *config, v string) error {
			if strings.EqualFold(v, "auto") {
				c.MaxSSESessionsPerClient = -1
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1_000_000 {
				return fmt.Errorf(`%q: want "auto" or a whole number from 0 to 1000000`, v)
			}
			c.MaxSSESessionsPerClient = n
			return nil
		}},
	{env: "MAX_BODY_BYTES", flag: "max-body-bytes", value: "int", def: "1048576", scope: forServe,
		usage: "largest request body accepted on the MCP endpoints, in bytes; larger ones get 413",
		apply: func(c *config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 16<<10 || n > 1<<30 {
				return fmt.Errorf("%q: want a number of bytes from 16384 to 1073741824, e.g. 1048576 (1 MiB)", v)
			}
			c.MaxBodyBytes = n
			return nil
		}},
	{env: "READ_HEADER_TIMEOUT", flag: "read-header-timeout", value: "duration", def: "10s", scope: forServe,
		usage: "time a client gets to send a request's headers (slow clients tie up connections)",
		apply: durationSetting(func(c *config, d time.Duration) { c.ReadHeaderTimeout = d }, 100*time.Millisecond)},
	{env: "CORS_ORIGINS", flag: "cors-origins", value: "list", def: "", scope: forServe,
		usage: `comma-separated browser origins allowed to call the MCP endpoints (e.g. https://app.example.com, https://*.example.com; "*" for any); other origins get 403. Unset: none, except localhost pages when listening on loopback. Clients that send no Origin (ChatGPT, the Responses API) are not affected`,
		apply: func(c *config, v string) error {
			o, err := httpserver.ParseCORSOrigins(v)
			c.CORSOrigins = o
			return err
		}},
	{env: "LINK_SECRET", def: "", scope: forServe, secret: true,
		usage: fmt.Sprintf("with AUTH_MODE set, the key that signs citation links to the document view, at least %d characters (generate one with: openssl rand -hex 32); unset, a key made at start signs them, and links stop opening when the server restarts (environment or .env only)", docurl.MinLinkKeyLen),
		apply: func(c *config, v string) error {
			if v != "" && len(v) < docurl.MinLinkKeyLen {
				return fmt.Errorf("is %d characters long: use at least %d random characters (generate one with: openssl rand -hex 32)", len(v), docurl.MinLinkKeyLen)
			}
			c.LinkSecret = v
			return nil
		}},
	{env: "LINK_LIFETIME", flag: "link-lifetime", value: "duration", def: "24h", scope: forServe,
		usage: "with AUTH_MODE set, how long a citation link to the document view opens, from 1m to 720h",
		apply: func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Minute || d > 720*time.Hour {
				return fmt.Errorf("%q: want a duration from 1m to 720h, e.g. 24h", v)
			}
			c.LinkLifetime = d
			return nil
		}},
	{env: "METRICS_TOKEN", def: "", scope: forServe, secret: true,
		usage: "when set, /metrics (and the detail of /readyz) requires the header Authorization: Bearer <METRICS_TOKEN>; unset, they need the tools' credentials when AUTH_MODE is set (environment or .env only)",
		apply: func(c *config, v string) error { c.MetricsToken = v; return nil }},
	{env: "METRICS_ADDR", flag: "metrics-addr", value: "host:port", def: "", scope: forServe,
		usage: "host:port of a separate listener for /metrics (e.g. :9090), which the main address then no longer serves; unset, /metrics is on ADDR",
		apply: func(c *config, v string) error {
			if v == "" {
				return nil
			}
			if err := checkAddr(v, ":9090 or 127.0.0.1:9090"); err != nil {
				return err
			}
			c.MetricsAddr = v
			return nil
		}},
	{env: "INDEX_RELOAD_INTERVAL", flag: "reload-interval", value: "duration", def: "5s", scope: forServe,
		usage: "how often the server checks for an index built by `connector index` (0 turns it off)",
		apply: durationSetting(func(c *config, d time.Duration) { c.ReloadInterval = d }, 0)},
	{env: "INDEX_VERIFY_INTERVAL", flag: "verify-interval", value: "duration", def: "1h", scope: forServe,
		usage: "how often a server re-reads the index it serves to check it against its checksums (0: only when it opens a generation)",
		apply: durationSetting(func(c *config, d time.Duration) { c.VerifyInterval = d }, 0)},
	{env: "MAX_FILE_BYTES", flag: "max-file-bytes", value: "int", def: strconv.Itoa(ingest.DefaultMaxFileBytes), scope: forIndex | forServe,
		usage: "larger files are skipped when indexing (JSON Lines files stream and are exempt)",
		apply: func(c *config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("%q: want a positive number of bytes, e.g. 33554432", v)
			}
			c.MaxFileBytes = n
			return nil
		}},
	{env: "SOURCES", def: "", scope: forIndex,
		usage: "comma-separated files, folders and website URLs that `connector index` reads when given none (e.g. ./docs,https://docs.example.com/)",
		apply: func(c *config, v string) error { c.Sources = splitList(v, ","); return nil }},
	{env: "WEB_MAX_PAGES", flag: "web-max-pages", value: "int", def: strconv.Itoa(web.DefaultMaxPages), scope: forIndex,
		usage: "pages read at most from each website indexed; pages over it keep their previous version",
		apply: intSetting(func(c *config, n int) { c.WebMaxPages = n }, 1, 10_000_000)},
	{env: "WEB_CONCURRENCY", flag: "web-concurrency", value: "int", def: strconv.Itoa(web.DefaultConcurrency), scope: forIndex,
		usage: "requests at once to a website being indexed",
		apply: intSetting(func(c *config, n int) { c.WebConcurrency = n }, 1, 64)},
	{env: "WEB_DELAY", flag: "web-delay", value: "duration", def: web.DefaultDelay.String(), scope: forIndex,
		usage: "least time between two requests to a website being indexed (a longer robots.txt Crawl-delay wins; 0 for none)",
		apply: durationSetting(func(c *config, d time.Duration) { c.WebDelay = d }, 0)},
	{env: "WEB_TIMEOUT", flag: "web-timeout", value: "duration", def: web.DefaultTimeout.String(), scope: forIndex,
		usage: "time limit of each request to a website being indexed, its body included; a page over it keeps its previous version",
		apply: durationSetting(func(c *config, d time.Duration) { c.WebTimeout = d }, time.Millisecond)},
	{env: "SAMPLE_CORPUS", flag: "sample-corpus", value: "bool", def: "true", scope: forServe,
		usage: "when the index folder holds no index, build one from the bundled sample documents",
		apply: func(c *config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q: want true or false", v)
			}
			c.SampleCorpus = b
			return nil
		}},
	{env: "WATCH", flag: "watch", value: "list", def: "", scope: forServe,
		usage: "comma-separated files, folders or website URLs that serve indexes at start and keeps fresh: paths are re-indexed WATCH_DEBOUNCE after they change, websites every WATCH_INTERVAL",
		apply: func(c *config, v string) error { c.Watch = splitList(v, ","); return nil }},
	{env: "WATCH_DEBOUNCE", flag: "watch-debounce", value: "duration", def: "2s", scope: forServe,
		usage: "how long changes under WATCH paths must settle before they are re-indexed (a burst of changes makes one run)",
		apply: durationSetting(func(c *config, d time.Duration) { c.WatchDebounce = d }, 0)},
	{env: "WATCH_INTERVAL", flag: "watch-interval", value: "duration", def: "15m", scope: forServe,
		usage: "how often WATCH websites are crawled again",
		apply: durationSetting(func(c *config, d time.Duration) { c.WatchInterval = d }, time.Minute)},
	{env: "LOG_LEVEL", flag: "log-level", value: "level", def: "info", scope: forAll,
		usage: cli.LogLevelUsage,
		apply: func(c *config, v string) (err error) {
			c.LogLevel, err = cli.ParseLogLevel(v)
			return err
		}},
	{env: "LOG_FORMAT", flag: "log-format", value: "format", def: "auto", scope: forAll,
		usage: cli.LogFormatUsage,
		apply: func(c *config, v string) (err error) {
			c.LogFormat, err = cli.ParseLogFormat(v)
			return err
		}},
	{env: "OPENAI_API_KEY", def: "", scope: forAll, secret: true,
		usage: "API key for STORE=openai (environment or .env only: flags are visible to other users)",
		apply: func(c *config, v string) error { c.OpenAIKey = v; return nil }},
	{env: "VECTOR_STORE_ID", flag: "vector-store", value: "id", def: "", scope: forAll,
		usage: "id of the OpenAI vector store for STORE=openai (vs_...); `connector index` creates one when unset",
		apply: func(c *config, v string) error { c.VectorStoreID = v; return nil }},
	{env: "OPENAI_BASE_URL", flag: "openai-base-url", value: "url", def: openaistore.DefaultBaseURL, scope: forAll,
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
	{env: "OPENAI_TIMEOUT", flag: "openai-timeout", value: "duration", def: "20s", scope: forAll,
		usage: "time limit of each OpenAI API request attempt; one that does not answer in time is retried",
		apply: durationSetting(func(c *config, d time.Duration) { c.OpenAITimeout = d }, time.Millisecond)},
	{env: "OPENAI_MAX_RETRIES", flag: "openai-max-retries", value: "int", def: "2", scope: forAll,
		usage: "retries of an OpenAI request on 408/409/429/5xx (honouring Retry-After), dropped connections and attempts past OPENAI_TIMEOUT",
		apply: intSetting(func(c *config, n int) { c.OpenAIRetries = n }, 0, 10)},
	{env: "OPENAI_REWRITE_QUERY", flag: "rewrite-query", value: "bool", def: "false", scope: forServe | forQuery,
		usage: "let OpenAI rewrite search queries for vector search",
		apply: func(c *config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q: want true or false", v)
			}
			c.RewriteQuery = b
			return nil
		}},
	{env: "OPENAI_SCORE_THRESHOLD", flag: "score-threshold", value: "float", def: "0", scope: forServe | forQuery,
		usage: "drop vector store chunks scoring below this (0 to 1; 0 keeps all)",
		apply: func(c *config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return fmt.Errorf("%q: want a number from 0 to 1", v)
			}
			c.ScoreThreshold = f
			return nil
		}},
	{env: "OPENAI_CACHE_BYTES", flag: "cache-bytes", value: "int", def: strconv.Itoa(openaistore.DefaultCacheBytes), scope: forServe,
		usage: "memory for documents fetched from OpenAI, in bytes",
		apply: func(c *config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1<<20 {
				return fmt.Errorf("%q: want a number of bytes, at least 1048576", v)
			}
			c.CacheBytes = n
			return nil
		}},
	{env: "OPENAI_CACHE_TTL", flag: "cache-ttl", value: "duration", def: "10m", scope: forServe,
		usage: "how long a document fetched from OpenAI is reused",
		apply: durationSetting(func(c *config, d time.Duration) { c.CacheTTL = d }, time.Second)},
	{env: "OPENAI_UPLOAD_CONCURRENCY", flag: "upload-concurrency", value: "int", def: "4", scope: forIndex,
		usage: "documents uploaded at once by `connector index --store openai`",
		apply: intSetting(func(c *config, n int) { c.UploadWorkers = n }, 1, 32)},
	{env: "EMBEDDINGS", flag: "embeddings", value: "name", def: embed.ProviderNone, scope: forAll,
		usage: `semantic search: "none" (keywords only), "local" (an in-process model; needs a build with -tags onnx) or "openai" (the OpenAI embeddings API or a compatible server)`,
		apply: func(c *config, v string) error {
			switch v = strings.ToLower(v); v {
			case embed.ProviderNone, embed.ProviderLocal, embed.ProviderOpenAI:
				c.Embeddings = v
				return nil
			}
			return fmt.Errorf(`%q: want "none", "local" or "openai"`, v)
		}},
	{env: "EMBEDDINGS_MODEL", flag: "embeddings-model", value: "name", def: "", scope: forAll,
		usage: fmt.Sprintf("embedding model; unset: %s for EMBEDDINGS=local, %s for EMBEDDINGS=openai", embed.DefaultLocalModel, embed.DefaultOpenAIModel),
		apply: func(c *config, v string) error { c.EmbeddingsModel = v; return nil }},
	{env: "EMBEDDINGS_MODEL_DIR", flag: "embeddings-model-dir", value: "dir", def: "", scope: forAll,
		usage: fmt.Sprintf("for EMBEDDINGS=local: the folder holding %s's onnx/model.onnx and vocab.txt, as Hugging Face lays them out", embed.DefaultLocalModel),
		apply: func(c *config, v string) error { c.EmbeddingsModelDir = v; return nil }},
	{env: "ONNXRUNTIME_LIB", flag: "onnxruntime-lib", value: "file", def: "", scope: forAll,
		usage: "for EMBEDDINGS=local: the ONNX Runtime 1.20 shared library; unset: the one scripts/install-onnxruntime.sh installs",
		apply: func(c *config, v string) error { c.ONNXRuntimeLib = v; return nil }},
	{env: "EMBEDDINGS_DIMENSIONS", flag: "embeddings-dimensions", value: "int", def: "0", scope: forAll,
		usage: "length of the embedding vectors; 0: the model's own (give it for models of OpenAI-compatible servers)",
		apply: intSetting(func(c *config, n int) { c.EmbeddingsDims = n }, 0, 65536)},
	{env: "EMBEDDINGS_BASE_URL", flag: "embeddings-base-url", value: "url", def: embed.DefaultBaseURL, scope: forAll,
		usage: "for EMBEDDINGS=openai: base URL of the embeddings API, OpenAI's or an OpenAI-compatible server's (e.g. http://localhost:11434/v1/)",
		apply: func(c *config, v string) error {
			if !docurl.IsCitable(v) {
				return fmt.Errorf("%q is not an absolute http(s) URL, e.g. %s", v, embed.DefaultBaseURL)
			}
			c.EmbeddingsBaseURL = v
			return nil
		}},
	{env: "EMBEDDINGS_API_KEY", def: "", scope: forAll, secret: true,
		usage: "API key for EMBEDDINGS=openai; unset: OPENAI_API_KEY (environment or .env only)",
		apply: func(c *config, v string) error { c.EmbeddingsAPIKey = v; return nil }},
}

// claimSetting sets a claim name, which holds no whitespace.
func claimSetting(set func(*config, string)) func(*config, string) error {
	return func(c *config, v string) error {
		if strings.ContainsFunc(v, unicode.IsSpace) {
			return fmt.Errorf("%q: a claim name has no spaces, e.g. groups, roles or realm_access.roles", v)
		}
		set(c, v)
		return nil
	}
}

// splitList splits v at sep and drops blank items.
func splitList(v, sep string) []string {
	var out []string
	for _, s := range strings.Split(v, sep) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// checkAddr reports what net.Listen would reject in a host:port, so that
// a typo stops the command at the configuration step, not at listening;
// example is what a good one looks like.
func checkAddr(v, example string) error {
	host, port, err := net.SplitHostPort(v)
	switch {
	case err != nil || port == "":
		return fmt.Errorf("%q is not host:port, e.g. %s", v, example)
	case strings.ContainsAny(host, " /"):
		return fmt.Errorf("%q: host %q is not a host name or IP address, e.g. %s", v, host, example)
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 0 || n > 65535 {
			return fmt.Errorf("%q: port %d is out of range (0 to 65535), e.g. %s", v, n, example)
		}
		return nil
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535, e.g. %s", v, port, example)
	}
	return nil
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
		usage := s.usage
		if sc == forQuery && s.queryUsage != "" {
			usage = s.queryUsage
		}
		vals[s.flag] = cli.StringVar(fs, s.flag, s.value, "", fmt.Sprintf("%s (env %s, default %q)", usage, s.env, s.def))
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
	if c.EmbeddingsAPIKey == "" {
		c.EmbeddingsAPIKey = c.OpenAIKey
	}
	if err := c.embedConfig(nil).Check(); err != nil {
		errs = append(errs, err)
	}
	if sc&forServe != 0 {
		if _, port, _ := net.SplitHostPort(c.Addr); c.MetricsAddr != "" && c.MetricsAddr == c.Addr && port != "0" { // port 0: each gets a free one
			errs = append(errs, fmt.Errorf("METRICS_ADDR is ADDR (%s): give the metrics listener a port of its own, e.g. :9090, or unset METRICS_ADDR to serve /metrics on ADDR", c.Addr))
		}
		errs = append(errs, checkAuth(c)...)
	}
	if c.MaxSSESessionsPerClient < 0 { // auto
		c.MaxSSESessionsPerClient = 0
		if c.MaxSSESessions > 0 {
			c.MaxSSESessionsPerClient = max(1, c.MaxSSESessions/4)
		}
	}
	return c, errors.Join(errs...)
}

// checkAuth reports settings that AUTH_MODE needs or that only another mode
// uses (a key set while AUTH_MODE=none would leave the server open to
// someone who thinks it is closed). Its messages never quote a key.
func checkAuth(c config) []error {
	var errs []error
	switch c.AuthMode {
	case auth.ModeAPIKey:
		switch {
		case len(c.APIKeys) == 0 && c.APIKeysFile == "":
			errs = append(errs, fmt.Errorf("AUTH_MODE=apikey needs API_KEYS or API_KEYS_FILE: set one or more comma-separated keys of at least %d characters in the environment or .env (generate one with: openssl rand -hex 32), or name a file of keys", auth.MinAPIKeyLen))
		case len(c.APIKeys) > 0:
			if err := auth.CheckAPIKeys(c.APIKeys); err != nil {
				errs = append(errs, fmt.Errorf("API_KEYS: %w", err))
			} else if len(c.APIKeyFileEntries) > 0 && auth.CheckAPIKeys(c.allAPIKeys()) != nil {
				// Each is fine alone, so the error is a key given in both.
				errs = append(errs, errors.New("API_KEYS and API_KEYS_FILE give the same key: give each key once, with all its principals"))
			}
		}
	case auth.ModeOAuth:
		if c.PublicBaseURL == "" {
			errs = append(errs, errors.New("AUTH_MODE=oauth needs PUBLIC_BASE_URL: set it to the public https URL clients reach this server at (e.g. https://docs.example.com); tokens must be issued for it (their aud) and the protected resource metadata names it"))
		}
		if c.OAuthIssuer == "" {
			errs = append(errs, errors.New("AUTH_MODE=oauth needs OAUTH_ISSUER: set it to your identity provider's issuer URL exactly as in its tokens' iss claim (e.g. https://keycloak.example.com/realms/main or https://example.eu.auth0.com/)"))
		}
	}
	if len(c.APIKeys) > 0 && c.AuthMode != auth.ModeAPIKey {
		errs = append(errs, fmt.Errorf("API_KEYS is set but AUTH_MODE=%s, so the keys would not be checked: set AUTH_MODE=apikey, or remove API_KEYS", c.AuthMode))
	}
	if c.APIKeysFile != "" && c.AuthMode != auth.ModeAPIKey {
		errs = append(errs, fmt.Errorf("API_KEYS_FILE is set but AUTH_MODE=%s, so the keys would not be checked: set AUTH_MODE=apikey, or remove API_KEYS_FILE", c.AuthMode))
	}
	if c.OAuthIssuer != "" && c.AuthMode != auth.ModeOAuth {
		errs = append(errs, fmt.Errorf("OAUTH_ISSUER is set but AUTH_MODE=%s, so tokens would not be checked: set AUTH_MODE=oauth, or remove OAUTH_ISSUER", c.AuthMode))
	}
	return errs
}

// embedConfig is the embedder configuration of the EMBEDDINGS settings;
// the openai provider shares OPENAI_TIMEOUT and OPENAI_MAX_RETRIES with the
// openai store.
func (c config) embedConfig(logger *slog.Logger) embed.Config {
	return embed.Config{
		Provider:    c.Embeddings,
		Model:       c.EmbeddingsModel,
		Dims:        c.EmbeddingsDims,
		ModelDir:    c.EmbeddingsModelDir,
		LibraryPath: c.ONNXRuntimeLib,
		BaseURL:     c.EmbeddingsBaseURL,
		APIKey:      c.EmbeddingsAPIKey,
		Timeout:     c.OpenAITimeout,
		MaxRetries:  c.OpenAIRetries,
		Logger:      logger,
	}
}

// allAPIKeys returns the entries of API_KEYS and API_KEYS_FILE.
func (c config) allAPIKeys() []string {
	return append(slices.Clip(c.APIKeys), c.APIKeyFileEntries...)
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
		slog.Float64("rate_limit", c.RateLimit),
		slog.Int("rate_burst", c.RateBurst),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
		slog.Int("max_sse_sessions", c.MaxSSESessions),
		slog.Int("max_sse_sessions_per_client", c.MaxSSESessionsPerClient),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.Any("cors_origins", c.CORSOrigins),
		slog.Bool("metrics_token_set", c.MetricsToken != ""),
		slog.Bool("link_secret_set", c.LinkSecret != ""),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Bool("openai_key_set", c.OpenAIKey != ""),
		slog.String("vector_store_id", c.VectorStoreID),
		slog.String("openai_base_url", c.OpenAIBaseURL),
		slog.String("embeddings", c.Embeddings),
		slog.String("embeddings_model", c.EmbeddingsModel),
		slog.Int("embeddings_dimensions", c.EmbeddingsDims),
		slog.String("embeddings_base_url", c.EmbeddingsBaseURL),
		slog.Bool("embeddings_key_set", c.EmbeddingsAPIKey != ""),
		slog.String("auth_mode", string(c.AuthMode)),
		slog.Int("api_keys", len(c.allAPIKeys())),
		slog.String("api_keys_file", c.APIKeysFile),
		slog.String("oauth_issuer", c.OAuthIssuer),
		slog.Any("oauth_audience", c.OAuthAudiences),
		slog.Any("oauth_required_scopes", c.OAuthScopes),
		slog.String("oauth_groups_claim", c.OAuthGroupsClaim),
		slog.String("oauth_roles_claim", c.OAuthRolesClaim),
		slog.String("default_access", c.DefaultAccess.String()),
		slog.Any("watch", c.Watch),
	)
}
