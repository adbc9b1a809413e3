// Package openaistore is the document store backed by an OpenAI vector
// store, through the official openai-go client: search ranks the store's
// chunks and groups them into documents, fetch reads a file's parsed text,
// and Syncer uploads the documents an index run reads (store.SourceDocument).
//
// Document ids are the doc_id attribute that Syncer sets (the same ids the
// local index uses), or the file id for files uploaded by other tools.
//
// Access lists are file attributes too (see accessFilter): search filters
// on them, and fetch and URL look-ups check them, so a caller sees only the
// documents it may read, and the others answer as missing ones.
package openaistore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/openaihttp"
	"github.com/connectorhq/connector/internal/store"
)

var _ store.Store = (*Store)(nil)

// DefaultBaseURL is the OpenAI API.
const DefaultBaseURL = "https://api.openai.com/v1/"

// Config configures the client and the store. Every client option is set
// from it explicitly: nothing is read from OPENAI_* environment variables
// behind the caller's back.
type Config struct {
	APIKey        string // secret: never logged, never in an error
	VectorStoreID string
	BaseURL       string // "" means DefaultBaseURL
	Organization  string // optional OpenAI-Organization header
	Project       string // optional OpenAI-Project header
	// Timeout bounds each request attempt, response body included; the
	// caller's context bounds the whole call, retries included.
	Timeout time.Duration
	// MaxRetries is how often a request is retried on 408, 409, 429 and 5xx
	// (honouring Retry-After), on a dropped connection, and on an attempt
	// that does not answer within Timeout, while the caller's context
	// allows; 0 disables retries.
	MaxRetries int
	// RewriteQuery asks the API to rewrite queries for vector search.
	RewriteQuery bool
	// ScoreThreshold drops chunks scoring below it (0 keeps all).
	ScoreThreshold float64
	// DefaultAccess (DEFAULT_ACCESS) decides who reads documents without
	// an access list, files uploaded by other tools included; the zero
	// value lets nobody but access.Everyone read them.
	DefaultAccess access.Default
	// CacheBytes and CacheTTL bound the cache of fetched documents.
	CacheBytes int64
	CacheTTL   time.Duration
	// ListInterval is how often at most an id or URL that no listing of the
	// vector store's files has named lists them again (0 means
	// DefaultListInterval); see fileIndex. A full listing is at most
	// CacheTTL old.
	ListInterval time.Duration
	// ReadyTTL is how long a successful readiness check is reused.
	ReadyTTL time.Duration
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// OnAttempt, when set, is called after each HTTP attempt (retries
	// included; see observeAttempts), for metrics.
	OnAttempt func(Attempt)
}

// Attempt describes one HTTP attempt to the API.
type Attempt struct {
	// Operation names the call: "search", "file_content", "file",
	// "vector_store_file", "vector_store", "upload" or "other".
	Operation string
	// Retry is 0 for a first attempt, n for the nth retry.
	Retry int
	// Status is the HTTP status, or 0 when no response came back.
	Status   int
	Duration time.Duration
}

// client is the part of openai-go the store and the syncer use.
type client struct {
	vectorStores openai.VectorStoreService
	files        openai.FileService
}

func newClient(cfg Config) client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	opts := []option.RequestOption{
		option.WithHTTPClient(hc),
		option.WithBaseURL(cmp.Or(cfg.BaseURL, DefaultBaseURL)),
		option.WithAPIKey(cfg.APIKey),
		option.WithMaxRetries(max(cfg.MaxRetries, 0)),
	}
	if cfg.Organization != "" {
		opts = append(opts, option.WithOrganization(cfg.Organization))
	}
	if cfg.Project != "" {
		opts = append(opts, option.WithProject(cfg.Project))
	}
	// Middlewares run once per attempt, the first outermost: the report
	// sees an attempt that timed out.
	if cfg.OnAttempt != nil {
		opts = append(opts, option.WithMiddleware(observeAttempts(cfg.OnAttempt)))
	}
	if cfg.Timeout > 0 {
		// Not option.WithRequestTimeout, which never retries a hang; see openaihttp.AttemptTimeout.
		opts = append(opts, option.WithMiddleware(openaihttp.AttemptTimeout(cfg.Timeout)))
	}
	// The services, not openai.NewClient, which would also read OPENAI_*
	// variables from the environment.
	return client{vectorStores: openai.NewVectorStoreService(opts...), files: openai.NewFileService(opts...)}
}

// Store searches and fetches documents of one vector store.
type Store struct {
	cfg    Config
	client client
	logger *slog.Logger
	docs   *docCache
	files  *fileIndex

	stop context.CancelFunc // ends the listings in flight, at Close
	wg   sync.WaitGroup

	readyTurn chan struct{} // one check at a time; waiting for the turn honours ctx
	readyAt   time.Time     // guarded by readyTurn
	readyLast store.Status
}

// New returns a store for cfg.VectorStoreID. It makes no request: Ready
// checks that the vector store exists.
func New(cfg Config) (*Store, error) {
	var errs []error
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("OPENAI_API_KEY is empty"))
	}
	if cfg.VectorStoreID == "" {
		errs = append(errs, errors.New("VECTOR_STORE_ID is empty"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadyTTL <= 0 {
		cfg.ReadyTTL = 30 * time.Second
	}
	if cfg.ListInterval <= 0 {
		cfg.ListInterval = DefaultListInterval
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	docs, err := newDocCache(cfg.CacheBytes, cfg.CacheTTL)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, client: newClient(cfg), logger: cfg.Logger.With("store", "openai"), docs: docs,
		readyTurn: make(chan struct{}, 1)}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.files = newFileIndex(ctx, &s.wg, s.logger, s.client, cfg.VectorStoreID, cfg.ListInterval, cfg.CacheTTL)
	return s, nil
}

// Search implements store.Store: it asks for up to twice limit chunks (at
// most 50) of the files who may read (see accessFilter), groups them by
// document, ranks each document by its best chunk, and returns that chunk,
// cut around the query words, as the snippet.
func (s *Store) Search(ctx context.Context, who access.Caller, query string, limit int) ([]store.Hit, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("search limit %d: want at least 1", limit)
	}
	terms, all := who.Terms(s.cfg.DefaultAccess)
	if !all && len(terms) == 0 {
		return nil, ctx.Err() // who reads nothing: no need to ask
	}
	params := openai.VectorStoreSearchParams{
		Query:         openai.VectorStoreSearchParamsQueryUnion{OfString: openai.String(query)},
		MaxNumResults: openai.Int(int64(min(50, 2*limit))),
	}
	if !all {
		params.Filters = accessFilter(terms)
	}
	if s.cfg.RewriteQuery {
		params.RewriteQuery = openai.Bool(true)
	}
	if s.cfg.ScoreThreshold > 0 {
		params.RankingOptions = openai.VectorStoreSearchParamsRankingOptions{ScoreThreshold: openai.Float(s.cfg.ScoreThreshold)}
	}
	page, err := s.client.vectorStores.Search(ctx, s.cfg.VectorStoreID, params)
	if err != nil {
		return nil, s.upstream(ctx, err, "search")
	}
	type best struct {
		hit   store.Hit
		chunk string
	}
	var order []string
	byDoc := map[string]*best{}
	for _, r := range page.Data {
		attrs := searchAttributes(r.Attributes)
		if !readable(terms, all, storedTerms(attrs)) {
			continue // the filter should have left it out; check anyway
		}
		id := cmp.Or(attrs[attrDocID], r.FileID)
		text := chunkText(r.Content)
		if b, ok := byDoc[id]; ok {
			if r.Score > b.hit.Score {
				b.hit.Score, b.chunk = r.Score, text
			}
			continue
		}
		s.docs.rememberFile(id, r.FileID)
		order = append(order, id)
		byDoc[id] = &best{chunk: text, hit: store.Hit{
			ID:    id,
			Title: cmp.Or(attrs[attrTitle], r.Filename, id),
			URL:   citable(attrs[attrURL]),
			Score: r.Score,
		}}
	}
	hits := make([]store.Hit, 0, len(order))
	for _, id := range order {
		b := byDoc[id]
		b.hit.Snippet = snippet(b.chunk, query, 300)
		hits = append(hits, b.hit)
	}
	slices.SortStableFunc(hits, func(a, b store.Hit) int { return cmp.Compare(b.Score, a.Score) })
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// LookupURL implements store.Store from the url and access attributes of
// the vector store's files (see fileIndex). A document who may not read is
// not found, after the same look-up as one it may.
func (s *Store) LookupURL(ctx context.Context, who access.Caller, url string) (string, error) {
	what := fmt.Sprintf("url %q", url)
	id, stored, err := s.files.document(ctx, url)
	if err != nil {
		return "", s.indexError(ctx, err, what, "look up a url")
	}
	if terms, all := who.Terms(s.cfg.DefaultAccess); !readable(terms, all, stored) {
		return "", fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return id, nil
}

// Ready implements store.Store: the vector store exists and answers. A
// success is reused for ReadyTTL, so probes do not spend API quota.
func (s *Store) Ready(ctx context.Context) (store.Status, error) {
	select {
	case s.readyTurn <- struct{}{}:
		defer func() { <-s.readyTurn }()
	case <-ctx.Done():
		// Another check is waiting for the API (not a mutex: a hung one
		// would hold every probe past its own deadline).
		return store.Status{}, s.upstream(ctx, ctx.Err(), "check the vector store")
	}
	if !s.readyAt.IsZero() && time.Since(s.readyAt) < s.cfg.ReadyTTL {
		return s.readyLast, nil
	}
	vs, err := s.client.vectorStores.Get(ctx, s.cfg.VectorStoreID)
	if err != nil {
		return store.Status{}, s.upstream(ctx, err, "check the vector store")
	}
	s.readyAt = time.Now()
	s.readyLast = store.Status{
		Backend:   "openai",
		Documents: vs.FileCounts.Completed,
		Detail: map[string]string{
			"vector_store_id":   vs.ID,
			"name":              vs.Name,
			"status":            string(vs.Status),
			"files_in_progress": fmt.Sprint(vs.FileCounts.InProgress),
			"files_failed":      fmt.Sprint(vs.FileCounts.Failed),
		},
	}
	return s.readyLast, nil
}

// Close implements store.Store: it stops the listings in flight and waits
// for them.
func (s *Store) Close() error {
	s.files.close()
	s.stop()
	s.wg.Wait()
	return nil
}

// citable returns u when it can be a citation, else "".
func citable(u string) string {
	if docurl.IsCitable(u) {
		return u
	}
	return ""
}

// chunkText joins the text parts of a search result's content.
func chunkText(content []openai.VectorStoreSearchResponseContent) string {
	var b strings.Builder
	for _, c := range content {
		if c.Type == "text" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(c.Text)
		}
	}
	return b.String()
}
