package httpserver

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/metrics"
)

// sseHandler serves the legacy HTTP+SSE transport: GET opens a stream whose
// first event names the message endpoint (this same path with ?sessionid=),
// and POSTs to that endpoint carry the client's messages. A POST without a
// session id comes from a Streamable HTTP client given the /sse/ URL, and is
// served as one, so either kind of client connects on the first try.
//
// It runs the SDK's SSEServerTransport itself, rather than the SDK's
// SSEHandler, to count each session's calls awaiting an answer: at shutdown
// a stream closes only once its answers are written.
type sseHandler struct {
	server     *mcp.Server
	streamable http.Handler
	keepAlive  time.Duration
	// stall is how long a stream's client may read nothing while an
	// event waits to be written (WriteTimeout); then the stream ends.
	stall  time.Duration
	logger *slog.Logger
	// maxSessions caps the open streams (MAX_SSE_SESSIONS); 0 means no cap.
	maxSessions int
	// maxPerClient caps the open streams of one client
	// (MAX_SSE_SESSIONS_PER_CLIENT), keyed as the rate limiter keys them
	// (see clientOf); 0 means no cap.
	maxPerClient int
	ips          clientIPs
	// maxBody caps a posted message (MAX_BODY_BYTES); 0 means the SDK's default.
	maxBody  int64
	gate     *rpcGate // reads posted messages before the SDK
	metrics  *metrics.Metrics
	warnedAt atomic.Int64 // unix seconds of the last "SSE sessions full" warning

	mu        sync.Mutex
	sessions  map[string]*sseSession
	perClient map[string]int // open streams by clientOf
	closing   bool
	drained   chan struct{} // closed at shutdown: streams end once their calls are answered
	forced    chan struct{} // closed at the shutdown deadline: streams end now
}

// sseSession is one open SSE stream.
type sseSession struct {
	transport *mcp.SSEServerTransport
	pending   atomic.Int64 // calls posted by the client and not yet answered
	user      string       // the authenticated caller who opened it ("" without auth)
}

func newSSEHandler(srv *mcp.Server, streamable http.Handler, keepAlive time.Duration, logger *slog.Logger) *sseHandler {
	return &sseHandler{
		server: srv, streamable: streamable, keepAlive: keepAlive, logger: logger,
		sessions: map[string]*sseSession{}, perClient: map[string]int{},
		drained: make(chan struct{}),
		forced:  make(chan struct{}),
	}
}

func (h *sseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet:
		h.serveStream(w, r)
	case r.Method == http.MethodPost && r.URL.Query().Has("sessionid"):
		h.serveMessage(w, normalizePost(r))
	case r.Method == http.MethodPost:
		h.streamable.ServeHTTP(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed: open the SSE stream with GET, and post messages to the endpoint it names", http.StatusMethodNotAllowed)
	}
}

func (h *sseHandler) serveMessage(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	sess := h.sessions[r.URL.Query().Get("sessionid")]
	h.mu.Unlock()
	if sess == nil || sess.user != callerID(r) {
		// Another caller's session is answered as a missing one: posting
		// into it would run calls as its owner.
		http.Error(w, "session not found: it ended or never existed; open a new SSE stream with GET", http.StatusNotFound)
		return
	}
	r, msgs, ok := h.gate.admit(w, r, false)
	if !ok {
		return
	}
	call, isCall := msgs[0].(*jsonrpc.Request) // one message: the gate takes no batch here
	if !isCall || !call.IsCall() {
		sess.transport.ServeHTTP(w, r)
		return
	}
	// Count the call before the session can answer it, and take it back
	// if the transport does not accept it.
	if sess.pending.Add(1) > maxPendingCalls {
		sess.pending.Add(-1)
		h.metrics.Limited(metrics.LimitSSEPending)
		w.Header().Set("Retry-After", "1")
		writeRPCError(w, http.StatusTooManyRequests, false, call.ID.Raw(), codeServerBusy,
			fmt.Sprintf("this SSE session already has %d calls awaiting answers, the most it takes: read their answers from the stream before posting more", maxPendingCalls))
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	sess.transport.ServeHTTP(sw, r)
	if sw.code() != http.StatusAccepted {
		sess.pending.Add(-1)
	}
}

// serveStream runs one SSE session. The stream is exempt from the server's
// read and write timeouts, gets keep-alive comments, and ends when one
// write waits longer than stall for the client to read.
func (h *sseHandler) serveStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})

	id := rand.Text()
	endpoint, err := r.URL.Parse("?sessionid=" + id)
	if err != nil {
		http.Error(w, "internal error: cannot build the message endpoint", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Connection", "keep-alive")
	hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream

	kw := &keepAliveWriter{ResponseWriter: w, stall: h.stall}
	sess := &sseSession{transport: &mcp.SSEServerTransport{Endpoint: endpoint.RequestURI(), Response: kw, MaxRequestBodyBytes: h.maxBody},
		user: callerID(r)}
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		http.Error(w, "the server is shutting down; reconnect shortly", http.StatusServiceUnavailable)
		return
	}
	if h.maxSessions > 0 && len(h.sessions) >= h.maxSessions {
		h.mu.Unlock()
		h.refuseFull(w, r)
		return
	}
	client := h.clientOf(r)
	if h.maxPerClient > 0 && client != "" && h.perClient[client] >= h.maxPerClient {
		h.mu.Unlock()
		h.refuseClient(w)
		return
	}
	h.sessions[id] = sess
	h.perClient[client]++
	h.mu.Unlock()
	h.metrics.SSESessionOpened()
	defer func() {
		h.mu.Lock()
		delete(h.sessions, id)
		if h.perClient[client]--; h.perClient[client] <= 0 {
			delete(h.perClient, client)
		}
		h.mu.Unlock()
		h.metrics.SSESessionClosed()
	}()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	kw.fail = cancel
	ss, err := h.server.Connect(ctx, countingTransport{sess}, nil)
	if err != nil {
		h.logger.WarnContext(ctx, "SSE session could not start", "err", err)
		return // the endpoint event may be out: the client sees the stream end
	}
	defer ss.Close()
	closed := make(chan struct{})
	go func() {
		_ = ss.Wait()
		close(closed)
	}()
	pinged := make(chan struct{})
	go func() {
		defer close(pinged)
		kw.ping(ctx, h.keepAlive, cancel)
	}()
	defer func() {
		cancel()
		<-pinged // no write may follow the handler's return
	}()

	select {
	case <-ctx.Done(): // the client went away
	case <-closed: // the session ended
	case <-h.drained:
		// Shutdown: answer the calls already read, then end the stream.
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for sess.pending.Load() > 0 {
			select {
			case <-ctx.Done():
				return
			case <-closed:
				return
			case <-h.forced:
				return
			case <-t.C:
			}
		}
		// Some clients drop events that arrive just before the end of the
		// stream: give the last answer a moment to be read.
		select {
		case <-time.After(sseLinger):
		case <-ctx.Done():
		case <-h.forced:
		}
	}
}

// refuseFull answers a new stream when MAX_SSE_SESSIONS are open: 503 with
// Retry-After. Open sessions are never dropped to make room.
func (h *sseHandler) refuseFull(w http.ResponseWriter, r *http.Request) {
	h.metrics.Limited(metrics.LimitSSESessions)
	if now := time.Now().Unix(); h.warnedAt.Load() < now-60 {
		h.warnedAt.Store(now) // at most one warning a minute
		h.logger.WarnContext(r.Context(), "SSE stream refused: the server holds its maximum of open SSE sessions",
			"max_sse_sessions", h.maxSessions, "fix", "raise MAX_SSE_SESSIONS if the host has room, or point clients at /mcp")
	}
	w.Header().Set("Retry-After", "30")
	http.Error(w, fmt.Sprintf("503 Service Unavailable: this server already holds its maximum of %d open SSE sessions (MAX_SSE_SESSIONS). "+
		"Retry in 30 seconds, or connect to the Streamable HTTP endpoint /mcp, which keeps no stream open.", h.maxSessions),
		http.StatusServiceUnavailable)
}

// clientOf names the client a stream counts against: the authenticated
// subject, else the client IP, as for the rate limit; "" for an
// unauthenticated caller on this machine, which has no per-client cap.
func (h *sseHandler) clientOf(r *http.Request) string {
	if id := callerID(r); id != "" {
		return "subject " + id
	}
	ip := h.ips.clientIP(r)
	if ip.IsLoopback() {
		return ""
	}
	return "ip " + ip.String()
}

// refuseClient answers a new stream from a client that holds
// MAX_SSE_SESSIONS_PER_CLIENT open ones: 429 with Retry-After. It logs
// nothing: the client, not the server, is at its limit.
func (h *sseHandler) refuseClient(w http.ResponseWriter) {
	h.metrics.Limited(metrics.LimitSSEClient)
	w.Header().Set("Retry-After", "30")
	http.Error(w, fmt.Sprintf("429 Too Many Requests: this client already holds its maximum of %d open SSE sessions (MAX_SSE_SESSIONS_PER_CLIENT). "+
		"Close a stream it no longer uses, retry in 30 seconds, or connect to the Streamable HTTP endpoint /mcp, which keeps no stream open.", h.maxPerClient),
		http.StatusTooManyRequests)
}

// maxPendingCalls is the most calls one SSE session may have awaiting
// answers. A client that reads its stream slowly while it posts calls
// would otherwise pile up answers in memory without end.
const maxPendingCalls = 16

// codeServerBusy is the JSON-RPC error code (from the range JSON-RPC leaves
// to servers) of a call refused because its session has too many pending.
const codeServerBusy = -32000

// sseLinger is how long a stream stays open at shutdown after its last answer.
const sseLinger = 250 * time.Millisecond

// shutdown ends every stream once its calls are answered, and every stream
// at once when ctx ends. New streams are refused from now on.
func (h *sseHandler) shutdown(ctx context.Context) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return
	}
	h.closing = true
	close(h.drained)
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		close(h.forced)
	}()
}

// open returns the number of open SSE streams.
func (h *sseHandler) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// countingTransport wraps a session's SSE transport to count the answers it
// writes (serveMessage counts the calls posted).
type countingTransport struct{ sess *sseSession }

func (c countingTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	conn, err := c.sess.transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{Connection: conn, pending: &c.sess.pending}, nil
}

// SupportsProtocolVersion keeps the SSE transport's own answer (it does not
// serve protocol revisions that dropped HTTP+SSE).
func (c countingTransport) SupportsProtocolVersion(v string) bool {
	return c.sess.transport.SupportsProtocolVersion(v)
}

type countingConn struct {
	mcp.Connection
	pending *atomic.Int64
}

func (c countingConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	err := c.Connection.Write(ctx, msg)
	if _, ok := msg.(*jsonrpc.Response); ok {
		c.pending.Add(-1)
	}
	return err
}
