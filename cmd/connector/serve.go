package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/httpserver"
	"github.com/connectorhq/connector/internal/mcpserver"
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
			fmt.Fprintf(e.stderr, "connector serve: unexpected argument %q (to index files, run: connector index %s)\n", c.args[0], c.args[0])
		}
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
	st, err := c.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
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
	srv := mcpserver.New(st, mcpserver.Options{
		Version: buildVersion(), MaxResults: cfg.MaxResults, MaxQueryBytes: cfg.MaxQueryBytes,
		MaxFetchChars: cfg.MaxFetchChars, ToolTimeout: cfg.ToolTimeout, Linker: linker, Logger: logger,
	})
	hs := httpserver.New(httpserver.Options{
		Version: buildVersion(), Store: st, MCP: srv, Linker: linker, Logger: logger,
		AllowedHosts: allowed, SSEKeepAlive: cfg.SSEKeepAlive,
		ShutdownTimeout: cfg.ShutdownTimeout, ToolTimeout: cfg.ToolTimeout,
	})
	if w, ok := st.(watcher); ok {
		go w.Watch(ctx, cfg.ReloadInterval)
	}
	base := "http://" + ln.Addr().String()
	logger.Info("listening", "addr", ln.Addr().String(),
		"streamable_http", base+"/mcp", "sse", base+"/sse/", "public_base_url", linker.Base())
	return hs.Serve(ctx, ln)
}

// watcher is a store that follows index runs while serving.
type watcher interface {
	Watch(ctx context.Context, interval time.Duration)
}

// linker derives citation URLs: PUBLIC_BASE_URL, else, on a loopback
// listener, this server's own address (a URL the person at this machine can
// open), else none.
func (c command) linker(addr net.Addr) (docurl.Linker, error) {
	if c.cfg.PublicBaseURL != "" {
		return docurl.NewLinker(c.cfg.PublicBaseURL)
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return docurl.NewLinker("http://" + addr.String())
	}
	return docurl.Linker{}, nil
}
