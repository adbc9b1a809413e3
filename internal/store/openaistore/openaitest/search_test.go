package openaitest_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

// corpus seeds four files; every one mentions "connector".
func corpus(t *testing.T, srv *openaitest.Server) (vsID string, ids map[string]string) {
	t.Helper()
	vsID = srv.AddVectorStore("docs")
	long := strings.Repeat("The connector keeps a refund ledger for billing disputes and checks each refund twice. ", 80)
	ids = map[string]string{
		"refunds": srv.AddFile(vsID, "refunds.md", long,
			map[string]any{"category": "billing", "year": 2024, "public": true}),
		"plans": srv.AddFile(vsID, "plans.md",
			"Annual plans renew every year.\n\nThe connector explains the refund policy for annual plans.",
			map[string]any{"category": "billing", "year": 2023}),
		"security": srv.AddFile(vsID, "security.md", "The connector encrypts documents at rest and in transit.",
			map[string]any{"category": "security", "year": 2025, "public": false}),
		"notes": srv.AddFile(vsID, "notes.md", "Team notes about the connector backlog.", nil),
	}
	return vsID, ids
}

func query(q string) openai.VectorStoreSearchParamsQueryUnion {
	return openai.VectorStoreSearchParamsQueryUnion{OfString: openai.String(q)}
}

func eq(key string, v string) *shared.ComparisonFilterParam {
	return &shared.ComparisonFilterParam{Key: key, Type: shared.ComparisonFilterTypeEq,
		Value: shared.ComparisonFilterValueUnionParam{OfString: openai.String(v)}}
}

func num(key string, op shared.ComparisonFilterType, v float64) *shared.ComparisonFilterParam {
	return &shared.ComparisonFilterParam{Key: key, Type: op,
		Value: shared.ComparisonFilterValueUnionParam{OfFloat: openai.Float(v)}}
}

func list(key string, op shared.ComparisonFilterType, vs ...string) *shared.ComparisonFilterParam {
	var items []shared.ComparisonFilterValueArrayItemUnionParam
	for _, v := range vs {
		items = append(items, shared.ComparisonFilterValueArrayItemUnionParam{OfString: openai.String(v)})
	}
	return &shared.ComparisonFilterParam{Key: key, Type: op,
		Value: shared.ComparisonFilterValueUnionParam{OfComparisonFilterValueArray: items}}
}

func comparison(f *shared.ComparisonFilterParam) openai.VectorStoreSearchParamsFiltersUnion {
	return openai.VectorStoreSearchParamsFiltersUnion{OfComparisonFilter: f}
}

func compound(op shared.CompoundFilterType, fs ...shared.CompoundFilterFilterUnionParam) *shared.CompoundFilterParam {
	return &shared.CompoundFilterParam{Type: op, Filters: fs}
}

func TestSearch(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	vsID, ids := corpus(t, srv)
	name := map[string]string{}
	for k, id := range ids {
		name[id] = k
	}

	tests := []struct {
		name   string
		params openai.VectorStoreSearchParams
		// wantFiles are the distinct files of the results, sorted; wantCount
		// the number of chunks when not zero.
		wantFiles []string
		wantCount int
	}{
		{name: "no matching word", params: openai.VectorStoreSearchParams{Query: query("zebra giraffe")}},
		{name: "punctuation only", params: openai.VectorStoreSearchParams{Query: query("?!")}},
		{name: "several chunks of one file", params: openai.VectorStoreSearchParams{Query: query("ledger")},
			wantFiles: []string{"refunds"}, wantCount: 8},
		{name: "default max_num_results is 10", params: openai.VectorStoreSearchParams{Query: query("connector")},
			wantFiles: []string{"notes", "plans", "refunds", "security"}, wantCount: 10},
		{name: "max_num_results bounds chunks", params: openai.VectorStoreSearchParams{Query: query("refund"),
			MaxNumResults: openai.Int(2)}, wantFiles: []string{"refunds"}, wantCount: 2},
		{name: "max_num_results 50", params: openai.VectorStoreSearchParams{Query: query("refund"),
			MaxNumResults: openai.Int(50)}, wantFiles: []string{"plans", "refunds"}},
		{name: "score threshold", params: openai.VectorStoreSearchParams{Query: query("annual plans refund"),
			RankingOptions: openai.VectorStoreSearchParamsRankingOptions{ScoreThreshold: openai.Float(0.75), Ranker: "auto"}},
			wantFiles: []string{"plans"}, wantCount: 1},
		{name: "array query", params: openai.VectorStoreSearchParams{Query: openai.VectorStoreSearchParamsQueryUnion{
			OfStringArray: []string{"encrypts", "backlog"}}}, wantFiles: []string{"notes", "security"}},
		{name: "eq", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: comparison(eq("category", "security"))}, wantFiles: []string{"security"}},
		{name: "ne includes files without the key", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: comparison(&shared.ComparisonFilterParam{Key: "category", Type: shared.ComparisonFilterTypeNe,
				Value: shared.ComparisonFilterValueUnionParam{OfString: openai.String("billing")}})},
			wantFiles: []string{"notes", "security"}},
		{name: "eq bool", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: comparison(&shared.ComparisonFilterParam{Key: "public", Type: shared.ComparisonFilterTypeEq,
				Value: shared.ComparisonFilterValueUnionParam{OfBool: openai.Bool(false)}})},
			wantFiles: []string{"security"}},
		{name: "gt", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: comparison(num("year", shared.ComparisonFilterTypeGt, 2023))}, wantFiles: []string{"refunds", "security"}},
		{name: "gte", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: comparison(num("year", shared.ComparisonFilterTypeGte, 2024))}, wantFiles: []string{"refunds", "security"}},
		{name: "lt", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: comparison(num("year", shared.ComparisonFilterTypeLt, 2024))}, wantFiles: []string{"plans"}},
		{name: "lte", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: comparison(num("year", shared.ComparisonFilterTypeLte, 2024))}, wantFiles: []string{"plans", "refunds"}},
		{name: "in", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: comparison(list("category", shared.ComparisonFilterTypeIn, "security", "legal"))},
			wantFiles: []string{"security"}},
		{name: "nin", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters:       comparison(list("category", shared.ComparisonFilterTypeNin, "security", "legal")),
			MaxNumResults: openai.Int(50)},
			wantFiles: []string{"notes", "plans", "refunds"}},
		{name: "and", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: openai.VectorStoreSearchParamsFiltersUnion{OfCompoundFilter: compound(shared.CompoundFilterTypeAnd,
				shared.CompoundFilterFilterUnionParam{OfComparison: eq("category", "billing")},
				shared.CompoundFilterFilterUnionParam{OfComparison: num("year", shared.ComparisonFilterTypeGte, 2024)})}},
			wantFiles: []string{"refunds"}},
		{name: "nested or", params: openai.VectorStoreSearchParams{Query: query("connector"),
			Filters: openai.VectorStoreSearchParamsFiltersUnion{OfCompoundFilter: compound(shared.CompoundFilterTypeOr,
				shared.CompoundFilterFilterUnionParam{OfComparison: eq("category", "security")},
				shared.CompoundFilterFilterUnionParam{OfFilter: compound(shared.CompoundFilterTypeAnd,
					shared.CompoundFilterFilterUnionParam{OfComparison: eq("category", "billing")},
					shared.CompoundFilterFilterUnionParam{OfComparison: num("year", shared.ComparisonFilterTypeEq, 2023)})})}},
			wantFiles: []string{"plans", "security"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := c.stores.Search(t.Context(), vsID, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if page.Object != "vector_store.search_results.page" ||
				!strings.Contains(page.RawJSON(), `"has_more":false,"next_page":null`) {
				t.Errorf("page %.300s", page.RawJSON())
			}
			var files []string
			for i, r := range page.Data {
				if r.Score <= 0 || r.Score > 1 || (i > 0 && r.Score > page.Data[i-1].Score) {
					t.Errorf("result %d score %v: want (0,1], best first", i, r.Score)
				}
				if len(r.Content) != 1 || r.Content[0].Type != "text" || r.Content[0].Text == "" || r.Filename == "" {
					t.Errorf("result %d: %s", i, r.RawJSON())
				}
				if !slices.Contains(files, name[r.FileID]) {
					files = append(files, name[r.FileID])
				}
			}
			slices.Sort(files)
			if fmt.Sprint(files) != fmt.Sprint(tt.wantFiles) {
				t.Errorf("files %v, want %v", files, tt.wantFiles)
			}
			if tt.wantCount != 0 && len(page.Data) != tt.wantCount {
				t.Errorf("%d chunks, want %d", len(page.Data), tt.wantCount)
			}
		})
	}

	t.Run("attributes come back typed", func(t *testing.T) {
		page, err := c.stores.Search(t.Context(), vsID, openai.VectorStoreSearchParams{Query: query("encrypts")})
		if err != nil || len(page.Data) != 1 {
			t.Fatalf("%v, %v", page, err)
		}
		a := page.Data[0].Attributes
		if a["category"].OfString != "security" || a["year"].OfFloat != 2025 || a["public"].OfBool ||
			!a["public"].JSON.OfBool.Valid() {
			t.Errorf("attributes %s", page.Data[0].RawJSON())
		}
	})
}

func TestSearchChunks(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	vsID := srv.AddVectorStore("docs")
	var words []string
	for i := range 500 {
		words = append(words, fmt.Sprintf("w%03d", i))
	}
	id := srv.AddFile(vsID, "words.txt", strings.Join(words, " "), nil)

	// Chunks are words 0-199, 150-349 and 300-499.
	tests := []struct {
		query      string
		wantChunks []string // first and last word of each chunk, in result order
	}{
		{query: "w100", wantChunks: []string{"w000-w199"}},
		{query: "w160", wantChunks: []string{"w000-w199", "w150-w349"}},
		{query: "w499", wantChunks: []string{"w300-w499"}},
		{query: "W320 w999", wantChunks: []string{"w150-w349", "w300-w499"}},
		{query: "w010 w020 w160", wantChunks: []string{"w000-w199", "w150-w349"}}, // more words ranks first
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			page, err := c.stores.Search(t.Context(), vsID, openai.VectorStoreSearchParams{Query: query(tt.query)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range page.Data {
				w := strings.Fields(r.Content[0].Text)
				if r.FileID != id || len(w) != 200 {
					t.Errorf("result from %s with %d words", r.FileID, len(w))
				}
				got = append(got, w[0]+"-"+w[len(w)-1])
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantChunks) {
				t.Errorf("chunks %v, want %v", got, tt.wantChunks)
			}
		})
	}
}

func TestSearchRewriteQuery(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	vsID, _ := corpus(t, srv)
	tests := []struct {
		rewrite bool
		want    string
	}{
		{rewrite: false, want: `"search_query":["What is the REFUND policy?"]`},
		{rewrite: true, want: `"search_query":["what is the refund policy"]`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rewrite), func(t *testing.T) {
			page, err := c.stores.Search(t.Context(), vsID, openai.VectorStoreSearchParams{
				Query: query("What is the REFUND policy?"), RewriteQuery: openai.Bool(tt.rewrite)})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(page.RawJSON(), tt.want) || len(page.Data) == 0 {
				t.Errorf("page %.200s, want %s and results", page.RawJSON(), tt.want)
			}
			reqs := srv.Requests("POST /vector_stores/*/search")
			var body struct {
				RewriteQuery bool `json:"rewrite_query"`
			}
			if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil || body.RewriteQuery != tt.rewrite {
				t.Errorf("recorded rewrite_query %v (%v), want %v", body.RewriteQuery, err, tt.rewrite)
			}
		})
	}
}

func TestSearchValidation(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	vsID, _ := corpus(t, srv)
	tests := []struct {
		name, vsID, body, param string
		wantStatus              int
	}{
		{name: "missing query", body: `{}`, param: "query"},
		{name: "empty query", body: `{"query":"  "}`, param: "query"},
		{name: "empty query array", body: `{"query":[]}`, param: "query"},
		{name: "query of wrong type", body: `{"query":5}`, param: "query"},
		{name: "max_num_results 0", body: `{"query":"a","max_num_results":0}`, param: "max_num_results"},
		{name: "max_num_results 51", body: `{"query":"a","max_num_results":51}`, param: "max_num_results"},
		{name: "threshold above 1", body: `{"query":"a","ranking_options":{"score_threshold":1.5}}`,
			param: "ranking_options.score_threshold"},
		{name: "unknown ranker", body: `{"query":"a","ranking_options":{"ranker":"best"}}`, param: "ranking_options.ranker"},
		{name: "unknown field", body: `{"query":"a","top_k":3}`, param: "top_k"},
		{name: "filter without key", body: `{"query":"a","filters":{"type":"eq","value":"x"}}`, param: "filters.key"},
		{name: "filter without value", body: `{"query":"a","filters":{"type":"eq","key":"x"}}`, param: "filters.value"},
		{name: "unknown filter type", body: `{"query":"a","filters":{"type":"xor","filters":[]}}`, param: "filters.type"},
		{name: "in needs an array", body: `{"query":"a","filters":{"type":"in","key":"k","value":"x"}}`,
			param: "filters.value"},
		{name: "eq needs a scalar", body: `{"query":"a","filters":{"type":"eq","key":"k","value":{"a":1}}}`,
			param: "filters.value"},
		{name: "empty compound", body: `{"query":"a","filters":{"type":"and","filters":[]}}`, param: "filters.filters"},
		{name: "bad nested filter", body: `{"query":"a","filters":{"type":"or","filters":[{"type":"eq","key":"k","value":1},` +
			`{"type":"gt","key":"k"}]}}`, param: "filters.filters[1].value"},
		{name: "unknown vector store", vsID: "vs_nope", body: `{"query":"a"}`, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := cmp.Or(tt.vsID, vsID)
			r := do(t, http.MethodPost, srv.URL()+"/vector_stores/"+id+"/search", "Bearer "+testKey, "application/json", tt.body)
			e := errorFields(t, r)
			want := cmp.Or(tt.wantStatus, http.StatusBadRequest)
			if r.status != want || (tt.param != "" && e["param"] != tt.param) || e["type"] != "invalid_request_error" {
				t.Errorf("status %d error %v, want %d on %q", r.status, e, want, tt.param)
			}
		})
	}
}
