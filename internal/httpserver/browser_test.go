package httpserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/passage"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
)

// chromiumPath is where Debian's chromium package (scripts/install-test-packages.sh)
// puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for one test and returns a context for
// chromedp actions, or skips the test when Chromium is not installed (fails
// when CONNECTOR_REQUIRE_CLIENTS is set, as scripts/test.sh does).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if p, err := exec.LookPath("chromium"); err == nil {
			path = p
		} else if os.Getenv("CONNECTOR_REQUIRE_CLIENTS") != "" {
			t.Fatalf("chromium is not installed; run scripts/install-test-packages.sh")
		} else {
			t.Skip("chromium is not installed; run scripts/install-test-packages.sh (make test does)")
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root, in a container
		chromedp.DisableGPU,
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot saves a screenshot of the viewport to the test's temporary
// folder and logs where.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
	if dir := os.Getenv("CONNECTOR_SCREENSHOTS"); dir != "" { // to keep it after the test
		_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
	}
}

// viewState is what the browser reports about a loaded page.
type viewState struct {
	Target       string  `json:"target"` // the id of the element :target matches
	Top          float64 `json:"top"`    // its getBoundingClientRect
	Bottom       float64 `json:"bottom"`
	Viewport     float64 `json:"viewport"` // innerHeight
	ScrollY      float64 `json:"scrollY"`
	Background   string  `json:"background"`      // the :target section's computed background
	OtherBg      string  `json:"otherBackground"` // another section's
	HasSentence  bool    `json:"hasSentence"`     // the sentence is in the marked passage
	SentenceBg   string  `json:"sentenceBackground"`
	HasScript    bool    `json:"hasScript"`
	Images       int     `json:"images"`
	SentenceTop  float64 `json:"sentenceTop"` // the element holding the sentence, on screen
	SentenceSeen bool    `json:"sentenceFound"`
}

const stateJS = `(() => {
	const sentence = %q;
	const el = document.querySelector(':target');
	const other = document.querySelector('section.passage:not(:target)');
	let holder = null;
	for (const e of document.querySelectorAll('p, li, h1, h2, h3')) {
		if (e.textContent.includes(sentence)) { holder = e; break; }
	}
	const r = el ? el.getBoundingClientRect() : {top: -1, bottom: -1};
	return {
		target: el ? el.id : "",
		top: r.top, bottom: r.bottom,
		viewport: window.innerHeight,
		scrollY: window.scrollY,
		background: el ? getComputedStyle(el).backgroundColor : "",
		otherBackground: other ? getComputedStyle(other).backgroundColor : "",
		// marked: in the :target section, or in the overlap of the next one
		hasSentence: !!holder && !!holder.closest('.passage:target, .passage:target + .passage > .overlap'),
		sentenceBackground: holder ? getComputedStyle(holder.closest('.passage:target + .passage > .overlap') || holder.closest('.passage') || holder).backgroundColor : "",
		hasScript: document.querySelectorAll('script').length > 0,
		images: document.images.length,
		sentenceTop: holder ? holder.getBoundingClientRect().top : -1,
		sentenceFound: !!holder,
	};
})()`

// state evaluates stateJS in the page, waiting up to a few seconds for
// ready to hold (the browser scrolls to a fragment after loading).
func state(t *testing.T, ctx context.Context, sentence string, ready func(viewState) bool) viewState {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[viewState](fmt.Sprintf(stateJS, sentence)))
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
		if ready(s) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserPassageLink opens, in headless Chromium, the link a search
// result gives for a passage deep in a long Markdown document (signed, as
// with authentication on): the page scrolls to that passage's section and
// marks it, with no script on the page.
func TestBrowserPassageLink(t *testing.T) {
	ctx := browser(t)
	const sentence = "Claims filed later than thirty days are not reimbursed."
	text := longMarkdown(40, 31, sentence) + "\n\n![chart](https://example.invalid/chart.png)\n"
	doc := store.Document{ID: "guides/handbook.md", Title: "Handbook", Text: text, Metadata: map[string]string{"format": "markdown"}}
	var linker docurl.Linker
	ts := start(t, &storetest.Fake{Docs: []store.Document{doc}}, func(o *Options) {
		signed, err := o.Linker.Signed([]byte(strings.Repeat("k", 32)), time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Linker, linker = signed, signed
	})
	_ = ts
	// The passage that holds the sentence, as the index numbers it.
	at, n := strings.Index(text, sentence), 0
	for i, sp := range passage.Split(text) {
		if sp.Start <= at && at < sp.End {
			n = i + 1
			break
		}
	}
	if n < 10 {
		t.Fatalf("the sentence is in passage %d; the test wants one deep in the document", n)
	}
	link := linker.HitURL(doc.ID, "", n, sentence)
	if !strings.Contains(link, "sig=") || !strings.HasSuffix(link, "#"+passage.Anchor(n)) {
		t.Fatalf("link %s: want a signed view link to passage %d", link, n)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	s := state(t, ctx, sentence, func(s viewState) bool { return s.ScrollY > 0 })
	screenshot(t, ctx, "passage.png")
	t.Logf("link %s: %+v", link, s)
	switch {
	case s.Target != passage.Anchor(n):
		t.Errorf(":target is %q, want %q", s.Target, passage.Anchor(n))
	case s.Background == s.OtherBg:
		t.Errorf("the linked passage is not marked: background %s, like other passages", s.Background)
	case s.Top < 0 || s.Top >= s.Viewport || s.ScrollY < 1000:
		t.Errorf("the linked passage is not in view: top %.0f, viewport %.0f, scrolled %.0f", s.Top, s.Viewport, s.ScrollY)
	}
	if !s.SentenceSeen || s.SentenceTop < 0 || s.SentenceTop >= s.Viewport {
		t.Errorf("the sentence is not on screen (top %.0f of %.0f)", s.SentenceTop, s.Viewport)
	}
	if !s.HasSentence || s.SentenceBg != s.Background {
		t.Errorf("the sentence is not in the marked passage (%v), or not marked: background %s", s.HasSentence, s.SentenceBg)
	}
	if s.HasScript || s.Images != 0 {
		t.Errorf("the page has %v scripts, %d images; want none", s.HasScript, s.Images)
	}
}

// TestBrowserTextFragment opens, in headless Chromium, a search result's
// link to a document's own web page: its text fragment (quoting the
// excerpt, with "-" and "," encoded) scrolls to the sentence deep in the
// page. The same kind of link on the document view (openaistore hits know
// no passage) scrolls there too.
func TestBrowserTextFragment(t *testing.T) {
	ctx := browser(t)
	const sentence = "The on-call engineer, not the manager, approves refunds over budget."
	var page strings.Builder
	page.WriteString("<!doctype html><html><head><meta charset=utf-8><title>Policy</title></head><body>")
	for i := range 120 {
		fmt.Fprintf(&page, "<p>Paragraph %d of routine text about travel and offices.</p>", i)
		if i == 90 {
			fmt.Fprintf(&page, "<p>%s</p>", sentence)
		}
	}
	page.WriteString("</body></html>")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page.String()))
	}))
	t.Cleanup(web.Close)

	snippet := "… " + sentence + " The finance team pays …"
	own := docurl.Linker{}.HitURL("policy", web.URL+"/page", 3, snippet)
	if !strings.Contains(own, "#:~:text=The%20on%2Dcall%20engineer%2C%20not%20the%20manager%2C%20approves") {
		t.Fatalf("link %s: want a text fragment quoting the snippet", own)
	}
	check := func(link, name string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
			t.Fatal(err)
		}
		s := state(t, ctx, sentence, func(s viewState) bool { return s.ScrollY > 0 })
		screenshot(t, ctx, name)
		t.Logf("link %s: scrolled %.0f, sentence at %.0f of %.0f", link, s.ScrollY, s.SentenceTop, s.Viewport)
		if !s.SentenceSeen || s.ScrollY < 500 || s.SentenceTop < 0 || s.SentenceTop >= s.Viewport {
			t.Errorf("%s: the quoted sentence is not in view: scrolled %.0f, sentence at %.0f of %.0f", link, s.ScrollY, s.SentenceTop, s.Viewport)
		}
	}
	check(own, "text-fragment.png")

	// The document view, with a text fragment instead of an anchor.
	var b strings.Builder
	for i := range 120 {
		fmt.Fprintf(&b, "Paragraph %d of routine text about travel and offices.\n\n", i)
		if i == 90 {
			b.WriteString(sentence + "\n\n")
		}
	}
	doc := store.Document{ID: "file-abc", Title: "Policy", Text: b.String(), Metadata: map[string]string{"format": "text"}}
	ts := start(t, &storetest.Fake{Docs: []store.Document{doc}}, nil)
	linker, _ := docurl.NewLinker(ts.base)
	check(linker.HitURL(doc.ID, "", 0, snippet), "view-text-fragment.png")
}
