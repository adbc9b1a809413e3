package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/httpserver"
	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/store/blevestore"
)

func (e env) serve(ctx context.Context, args []string) int {
	c, code, ok := e.setup("serve", "serve [flags]", forServe, args, nil)
	if !ok {
		return code
	}
	if len(c.args) > 0 {
		switch c.args[0] {
		case "serve", "index", "search", "fetch", "version":
			fmt.Fprintf(e.stderr, "connector: put the command before its flags: connector %s [flags] ...\n", c.args[0])
		default:
			fmt.Fprintf(e.stderr, "connector serve: unexpected argument %q (to index files, run: connector index %s; to serve them and keep them fresh: connector serve --watch PATH,PATH...)\n", c.args[0], c.args[0])
		}
		return exitUsage
	}
	if _, _, err := parseSources(c.cfg.Watch); err != nil {
		fmt.Fprintf(e.stderr, "connector serve: WATCH: nothing is served:\n%s\n", err)
		return exitUsage
	}
	if err := c.serve(ctx); err != nil {
		c.logger.Error("connector stopped", "err", err)
		return exitFailure
	}
	return exitOK
}

func (c command) serve(ctx context.Context) error {
	cfg, logger := c.cfg, c.logger
	logger.Info("starting connector", "version", buildVersion(), "config", cfg)
	m := metrics.New()
	c.metrics = m // counts the OpenAI API calls of the store
	c, closeEmbedder, err := c.withEmbedder()
	if err != nil {
		return err
	}
	defer closeEmbedder()
	// WATCH sources: with an index to serve, serving starts at once and
	// the first refresh runs meanwhile (searches answer from the index as
	// it was); an empty index folder is filled from them before listening,
	// instead of from the sample corpus.
	var ref *refresher
	started := false
	if len(cfg.Watch) > 0 {
		ref = c.newRefresher(m)
		defer ref.wait() // a run in progress stops before the store closes
		if cfg.Store == "bleve" && !blevestore.Exists(cfg.IndexDir) {
			logger.Info("no index yet: indexing the WATCH sources before listening", "index_dir", cfg.IndexDir, "watch", cfg.Watch)
			if err := ref.start(ctx); err != nil {
				return err
			}
			started = true
			if err := ref.waitFirst(ctx); err != nil {
				return err
			}
		}
	}
	st, err := c.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if ref != nil {
		if r, ok := st.(interface{ Reload() (bool, error) }); ok {
			ref.setReload(r.Reload) // switch at once after a refresh, not at the next poll
		}
		if !started {
			if err := ref.start(ctx); err != nil {
				return err
			}
		}
	}
	storeGauges := metrics.StoreOptions{Ready: st.Ready}
	if cfg.Store == "bleve" {
		storeGauges.Size = func() (int64, error) { return dirSize(cfg.IndexDir) }
	}
	m.WatchStore(storeGauges)
	if cfg.Store == "openai" {
		// Say at once whether the key and the vector store work; serve anyway
		// (/readyz reports it) so that a passing network fault does not stop start-up.
		check, cancel := context.WithTimeout(ctx, 15*time.Second)
		status, err := st.Ready(check)
		cancel()
		if err != nil {
			logger.Error("the OpenAI vector store does not answer; serving anyway, /readyz reports it", "err", err)
		} else {
			logger.Info("OpenAI vector store ready", "vector_store_id", cfg.VectorStoreID, "documents", status.Documents)
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using the port? set ADDR or --addr)", cfg.Addr, err)
	}
	linker, err := c.linker(ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	if linker.Base() == "" {
		logger.Warn("PUBLIC_BASE_URL is not set and the server is not on a loopback address: documents without their own URL get url \"\", which ChatGPT cannot cite; set PUBLIC_BASE_URL to this server's public URL")
	}
	allowed := cfg.AllowedHosts
	if cfg.PublicBaseURL != "" {
		u, _ := docurl.ParseBase(cfg.PublicBaseURL) // validated in loadConfig
		allowed = append(allowed, u.Host)
	}
	authn, err := c.authenticator(m.AuthFailure)
	if err != nil {
		ln.Close()
		return err
	}
	logAuth(ctx, logger, authn, ln.Addr(), cfg)
	if authn != nil {
		// A browser opening a citation sends no token: links to the
		// document view are signed and expire instead.
		if linker, err = signLinks(linker, cfg, logger); err != nil {
			ln.Close()
			return err
		}
	}
	var refreshStatus func() any
	if ref != nil {
		refreshStatus = ref.status
	}
	srv := mcpserver.New(st, mcpserver.Options{
		Version: buildVersion(), MaxResults: cfg.MaxResults, MaxQueryBytes: cfg.MaxQueryBytes,
		MaxFetchChars: cfg.MaxFetchChars, ToolTimeout: cfg.ToolTimeout, Linker: linker, Logger: logger,
		Metrics: m, Private: authn != nil,
	})
	hs := httpserver.New(httpserver.Options{
		Version: buildVersion(), Store: st, MCP: srv, Linker: linker, Logger: logger,
		AllowedHosts: allowed, SSEKeepAlive: cfg.SSEKeepAlive,
		ShutdownTimeout: cfg.ShutdownTimeout, ToolTimeout: cfg.ToolTimeout,
		Auth: authn, Refresh: refreshStatus,

		Metrics: m, MetricsToken: cfg.MetricsToken,
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, TrustedProxies: cfg.TrustedProxies,
		MaxSSESessions: cfg.MaxSSESessions, MaxSSESessionsPerClient: cfg.MaxSSESessionsPerClient,
		MaxBodyBytes: cfg.MaxBodyBytes, CORSOrigins: cfg.CORSOrigins,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout, NoMetricsRoute: cfg.MetricsAddr != "",
	})

	metricsAt := ln.Addr()
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on METRICS_ADDR %s: %w (is another server using the port?)", cfg.MetricsAddr, err)
		}
		metricsAt = mln.Addr()
		// Logged here, before "listening", so that anyone who waits for
		// "listening" (people, scripts, tests) already knows both addresses.
		logger.Info("metrics listening", "addr", mln.Addr().String(), "metrics", "http://"+mln.Addr().String()+"/metrics")
		go serveMetrics(ctx, mln, hs.MetricsHandler(mln.Addr()), logger)
	}
	if cfg.MetricsToken == "" && authn == nil && !isLoopbackListener(metricsAt) {
		logger.Warn("/metrics is open to anyone who reaches " + metricsAt.String() + ": set METRICS_TOKEN, or keep the port private (METRICS_ADDR, or block /metrics at your reverse proxy)")
	}
	if w, ok := st.(watcher); ok {
		go w.Watch(ctx, cfg.ReloadInterval)
		go w.Scrub(ctx, cfg.VerifyInterval)
	}
	base := "http://" + ln.Addr().String()
	logger.Info("listening", "addr", ln.Addr().String(),
		"streamable_http", base+"/mcp", "sse", base+"/sse/", "public_base_url", linker.Base())
	return hs.Serve(ctx, ln)
}

// serveMetrics answers with h (GET /metrics) on ln until ctx is done. The
// caller has logged the address.
func serveMetrics(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		_ = srv.Close() // scrapes are short: nothing to drain
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("metrics listener stopped", "err", err)
	}
}

// isLoopbackListener reports whether addr is a loopback address.
func isLoopbackListener(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// dirSize is the size of the files under dir, for the index size gauge.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n, err
}

// watcher is a store that follows index runs while serving, and checks
// the files it serves.
type watcher interface {
	Watch(ctx context.Context, interval time.Duration)
	Scrub(ctx context.Context, interval time.Duration)
}

// linker derives citation URLs: PUBLIC_BASE_URL, else, on a loopback
// listener, this server's own address (a URL the person at this machine can
// open), else none.
// signLinks returns linker signing its document-view links with LINK_SECRET,
// or with a random key when none is set (links then stop opening at
// restart, and each replica opens only its own).
func signLinks(linker docurl.Linker, cfg config, logger *slog.Logger) (docurl.Linker, error) {
	key := []byte(cfg.LinkSecret)
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key) // never fails (crypto/rand)
		logger.Info("citation links to the document view are signed with a key made at start: they stop opening when the server restarts; set LINK_SECRET to keep them",
			"link_lifetime", cfg.LinkLifetime.String())
	}
	return linker.Signed(key, cfg.LinkLifetime, nil)
}

func (c command) linker(addr net.Addr) (docurl.Linker, error) {
	if c.cfg.PublicBaseURL != "" {
		return docurl.NewLinker(c.cfg.PublicBaseURL)
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return docurl.NewLinker("http://" + addr.String())
	}
	return docurl.Linker{}, nil
}
