// Package fetch is the MCP fetch tool: a document id (from search) in, the
// document's full text out, with the URL to cite.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/passage"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/toolcall"
)

// Name is the tool name ChatGPT and deep research look for.
const Name = "fetch"

// DefaultMaxChars is the default cap on the text one fetch returns.
const DefaultMaxChars = 200_000

// maxIDBytes bounds the id argument; longer ids are never valid.
const maxIDBytes = 4096

// partMarker separates a document id from the character offset of a later
// part, in the next_id that a capped fetch hands out: "guide.md#offset=200000".
const partMarker = "#offset="

// Fetcher is the part of a store the tool uses.
type Fetcher interface {
	Fetch(ctx context.Context, who access.Caller, id string) (*store.Document, error)
	LookupURL(ctx context.Context, who access.Caller, url string) (string, error)
}

// Options configure the tool.
type Options struct {
	MaxChars int           // cap on returned text, in characters
	Timeout  time.Duration // per call; 0 means none beyond the client's
	Linker   docurl.Linker
	Logger   *slog.Logger
}

// Input is exactly {"id": string}.
type Input struct {
	ID string `json:"id" jsonschema:"The id of a document, from a search result (the result's url is accepted too)"`
}

// Output is the document.
type Output struct {
	ID       string            `json:"id" jsonschema:"Document id"`
	Title    string            `json:"title" jsonschema:"Document title"`
	Text     string            `json:"text" jsonschema:"Full text of the document (or of the part named in metadata when it is long)"`
	URL      string            `json:"url" jsonschema:"Link to cite for this document, or empty when it has none"`
	Metadata map[string]string `json:"metadata" jsonschema:"Further facts about the document, as strings"`
}

const description = `Fetch the full text of one document from the connected private document collection.

Pass the "id" of a result returned by the search tool (its "url" works too); ids come only from search. Use it to read a document before answering from it, and cite the returned "url" (empty when the document has none). Very long documents come in parts: when "metadata.truncated" is "true", fetch "metadata.next_id" for the next part. When "metadata.passages" is present it lists the passages of the text as "p-N start-end" (character offsets in the whole document); to cite one passage, add "#p-N" to the url.`

// Register adds the fetch tool to srv.
func Register(srv *mcp.Server, f Fetcher, opts Options) {
	if opts.MaxChars <= 0 {
		opts.MaxChars = DefaultMaxChars
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := handler{store: f, opts: opts, logger: opts.Logger.With("tool", Name)}
	toolcall.AddTool(srv, &mcp.Tool{
		Name:        Name,
		Title:       "Fetch document",
		Description: description,
		Annotations: toolcall.ReadOnly("Fetch document"),
	}, toolcall.Options{
		About:   map[string]string{"id": "the id of a search result"},
		Example: `{"id": "<id from a search result>"}`,
		Logger:  h.logger,
	}, h.handle)
}

type handler struct {
	store  Fetcher
	opts   Options
	logger *slog.Logger
}

func (h handler) handle(ctx context.Context, _ *mcp.CallToolRequest, in Input) (_ *mcp.CallToolResult, out Output, err error) {
	start := time.Now()
	id := strings.TrimSpace(in.ID)
	defer func() {
		n := 0
		if err == nil {
			n = 1
		}
		toolcall.Log(ctx, h.logger, start, n, err,
			append([]any{"chars", utf8.RuneCountInString(out.Text)}, toolcall.Debug(ctx, h.logger, "id", id)...)...)
	}()
	defer toolcall.Recover(&err)

	switch {
	case id == "":
		return nil, Output{}, toolcall.Invalid(`"id" is empty: pass the id of a result from the search tool`)
	case len(id) > maxIDBytes:
		return nil, Output{}, toolcall.Invalid(`"id" is %d bytes long, and no document id is over %d bytes: pass the id of a result from the search tool`, len(id), maxIDBytes)
	}
	if h.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.opts.Timeout)
		defer cancel()
	}
	doc, offset, err := h.resolve(ctx, id)
	if err != nil {
		te := toolcall.FromStore("fetch", err)
		if te.Class == toolcall.ClassNotFound {
			te.Message = `no document has id "` + shortID(id) + `": use the "id" of a result from the search tool (search first if you have none)`
		}
		return nil, Output{}, te
	}
	return nil, h.output(doc, offset), nil
}

// resolve finds the document an id names: an id, the next_id of a long
// document's later part, the view URL this server hands out, or a
// document's own URL.
//
// Every path asks as the caller the request's context names, so that a
// document the caller may not read is not found by any of them.
func (h handler) resolve(ctx context.Context, id string) (*store.Document, int, error) {
	who := access.FromContext(ctx)
	doc, err := h.store.Fetch(ctx, who, id)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return doc, 0, err
	}
	notFound := err
	if base, offset, ok := splitPart(id); ok {
		doc, err := h.store.Fetch(ctx, who, base)
		return doc, offset, err
	}
	if !docurl.IsCitable(id) {
		return nil, 0, notFound
	}
	if viewID, ok := h.opts.Linker.ID(id); ok {
		doc, err := h.store.Fetch(ctx, who, viewID)
		return doc, 0, err
	}
	// A search result's URL may carry a text fragment pointing at the
	// matched passage; the document is known by its plain URL.
	owner, err := h.store.LookupURL(ctx, who, docurl.StripTextFragment(id))
	if err != nil {
		return nil, 0, err
	}
	doc, err = h.store.Fetch(ctx, who, owner)
	return doc, 0, err
}

// splitPart parses "id#offset=N".
func splitPart(id string) (string, int, bool) {
	i := strings.LastIndex(id, partMarker)
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[i+len(partMarker):])
	if err != nil || n <= 0 {
		return "", 0, false
	}
	return id[:i], n, true
}

// output builds the tool result, cutting the text to MaxChars characters
// from offset and saying so in metadata.
func (h handler) output(doc *store.Document, offset int) Output {
	out := Output{
		ID:       doc.ID,
		Title:    doc.Title,
		URL:      h.opts.Linker.URL(doc.ID, doc.URL),
		Metadata: make(map[string]string, len(doc.Metadata)+5),
	}
	if out.Title == "" {
		out.Title = doc.ID
	}
	for k, v := range doc.Metadata {
		out.Metadata[k] = v
	}
	text := []rune(doc.Text)
	total := len(text)
	if offset == 0 && total <= h.opts.MaxChars {
		out.Text = doc.Text
		h.passages(out, doc, 0, total)
		return out
	}
	offset = min(offset, total)
	end := min(offset+h.opts.MaxChars, total)
	if end < total {
		end = breakBefore(text, offset, end)
	}
	out.Text = string(text[offset:end])
	h.passages(out, doc, offset, end)
	out.Metadata["total_characters"] = strconv.Itoa(total)
	out.Metadata["part_start"] = strconv.Itoa(offset)
	out.Metadata["part_end"] = strconv.Itoa(end)
	if end < total {
		out.Metadata["truncated"] = "true"
		out.Metadata["next_id"] = doc.ID + partMarker + strconv.Itoa(end)
		out.Metadata["note"] = "The text is cut at character " + strconv.Itoa(end) + " of " + strconv.Itoa(total) +
			"; fetch next_id for the rest."
	} else {
		out.Metadata["truncated"] = "false"
	}
	return out
}

// maxPassagesListed bounds metadata "passages" (a part of MaxChars
// characters holds far fewer passages unless MAX_FETCH_CHARS is huge).
const maxPassagesListed = 300

// passages sets metadata "passages" when the citation URL is the document
// view, whose anchors (#p-N) it names: the passages that overlap the part
// [from, to) of the text returned, as "p-N start-end" in characters of the
// whole text, comma-separated. A document's own page has no such anchors.
func (h handler) passages(out Output, doc *store.Document, from, to int) {
	if out.URL == "" || docurl.IsCitable(doc.URL) {
		return
	}
	spans := passage.Split(doc.Text)
	starts, ends := make([]int, len(spans)), make([]int, len(spans))
	for i, sp := range spans {
		starts[i], ends[i] = sp.Start, sp.End
	}
	starts, ends = runeOffsets(doc.Text, starts), runeOffsets(doc.Text, ends)
	var b strings.Builder
	listed := 0
	for i := range spans {
		if ends[i] <= from || starts[i] >= to {
			continue
		}
		if listed == maxPassagesListed {
			b.WriteString(", …")
			break
		}
		if listed > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d-%d", passage.Anchor(i+1), starts[i], ends[i])
		listed++
	}
	out.Metadata["passages"] = b.String()
}

// runeOffsets turns ascending byte offsets into text into character
// offsets, in one pass.
func runeOffsets(text string, bytes []int) []int {
	out := make([]int, len(bytes))
	pos, n := 0, 0
	for i, b := range bytes {
		n += utf8.RuneCountInString(text[pos:b])
		pos = b
		out[i] = n
	}
	return out
}

// breakBefore moves a cut back to the nearest paragraph or word break
// within the last tenth of the part, so a part does not end mid-word.
func breakBefore(text []rune, start, end int) int {
	floor := end - (end-start)/10
	space := -1
	for i := end; i > floor; i-- {
		if text[i-1] == '\n' && i-2 >= start && text[i-2] == '\n' {
			return i
		}
		if space < 0 && unicode.IsSpace(text[i-1]) {
			space = i
		}
	}
	if space > 0 {
		return space
	}
	return end
}

func shortID(id string) string {
	const max = 200
	if len(id) <= max {
		return id
	}
	return strings.ToValidUTF8(id[:max], "") + "…"
}
