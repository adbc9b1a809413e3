package openaitest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

// upload uploads text as a file with purpose assistants.
func upload(t *testing.T, c clients, filename, text string) string {
	t.Helper()
	f, err := c.files.New(t.Context(), openai.FileNewParams{Purpose: openai.FilePurposeAssistants,
		File: openai.File(strings.NewReader(text), filename, "text/markdown")})
	if err != nil {
		t.Fatalf("upload %s: %v", filename, err)
	}
	return f.ID
}

func attrString(s string) openai.VectorStoreFileNewParamsAttributeUnion {
	return openai.VectorStoreFileNewParamsAttributeUnion{OfString: openai.String(s)}
}

// TestFileLifecycle walks upload, attach, poll, read, search, detach, delete.
func TestFileLifecycle(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	ctx := t.Context()
	srv.SetProcessing(3, "")
	vsID := srv.AddVectorStore("docs")

	text := strings.Repeat("Refunds are granted within thirty days of purchase. ", 30) + "\n\n" +
		strings.Repeat("Annual plans renew automatically every year. ", 30)
	fileID := upload(t, c, "refunds.md", text)
	vf, err := c.stores.Files.New(ctx, vsID, openai.VectorStoreFileNewParams{FileID: fileID,
		Attributes: map[string]openai.VectorStoreFileNewParamsAttributeUnion{
			"title": attrString("Refunds"), "year": {OfFloat: openai.Float(2024)}, "public": {OfBool: openai.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	if vf.ID != fileID || vf.Object != "vector_store.file" || vf.VectorStoreID != vsID ||
		vf.Status != openai.VectorStoreFileStatusInProgress || vf.UsageBytes != 0 ||
		vf.Attributes["title"].OfString != "Refunds" || vf.Attributes["year"].OfFloat != 2024 ||
		!vf.Attributes["public"].OfBool || vf.ChunkingStrategy.Type != "static" ||
		vf.ChunkingStrategy.Static.MaxChunkSizeTokens != 800 || vf.ChunkingStrategy.Static.ChunkOverlapTokens != 400 ||
		!strings.Contains(vf.RawJSON(), `"last_error":null`) {
		t.Fatalf("attach = %s", vf.RawJSON())
	}

	// In progress: not searchable, no content yet.
	page, err := c.stores.Search(ctx, vsID, openai.VectorStoreSearchParams{
		Query: openai.VectorStoreSearchParamsQueryUnion{OfString: openai.String("refunds")}})
	if err != nil || len(page.Data) != 0 {
		t.Fatalf("search before processing: %v results, err %v; want none", len(page.Data), err)
	}

	// The third GET sees it completed.
	done, err := c.stores.Files.PollStatus(ctx, vsID, fileID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != openai.VectorStoreFileStatusCompleted || done.UsageBytes != int64(len(text)) {
		t.Errorf("polled = %s", done.RawJSON())
	}
	if got := len(srv.Requests("GET /vector_stores/*/files/*")); got != 3 {
		t.Errorf("%d GETs until completed, want 3", got)
	}

	// Content comes in several items that join back into the text.
	content, err := c.stores.Files.Content(ctx, vsID, fileID)
	if err != nil {
		t.Fatal(err)
	}
	var joined strings.Builder
	for _, item := range content.Data {
		if item.Type != "text" {
			t.Errorf("content item type %q", item.Type)
		}
		joined.WriteString(item.Text)
	}
	if len(content.Data) < 3 || joined.String() != text || content.Object != "vector_store.file_content.page" ||
		!strings.Contains(content.RawJSON(), `"has_more":false,"next_page":null`) {
		t.Errorf("content has %d items, object %q, joined equal=%v; raw %.200s", len(content.Data),
			content.Object, joined.String() == text, content.RawJSON())
	}

	// Searchable now, with several chunks of the one file.
	page, err = c.stores.Search(ctx, vsID, openai.VectorStoreSearchParams{
		Query: openai.VectorStoreSearchParamsQueryUnion{OfString: openai.String("refunds purchase")}})
	if err != nil || len(page.Data) < 2 {
		t.Fatalf("search: %d results, err %v; want chunks", len(page.Data), err)
	}
	if r := page.Data[0]; r.FileID != fileID || r.Filename != "refunds.md" || r.Attributes["title"].OfString != "Refunds" {
		t.Errorf("first result %s", r.RawJSON())
	}

	want := []openaitest.File{{ID: fileID, Filename: "refunds.md", Text: text, Status: "completed",
		Attributes: map[string]any{"title": "Refunds", "year": 2024.0, "public": true}}}
	if got := srv.Files(vsID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Files = %+v, want %+v", got, want)
	}

	// Detach keeps the file object; deleting it then leaves nothing.
	del, err := c.stores.Files.Delete(ctx, vsID, fileID)
	if err != nil || !del.Deleted || del.ID != fileID || del.Object != "vector_store.file.deleted" {
		t.Fatalf("detach = %v, %v", del, err)
	}
	if len(srv.Files(vsID)) != 0 || srv.FileObjects() != 1 {
		t.Errorf("after detach: %d attached, %d file objects; want 0 and 1", len(srv.Files(vsID)), srv.FileObjects())
	}
	_, err = c.stores.Files.Get(ctx, vsID, fileID)
	apiError(t, err, http.StatusNotFound, "", "No file found with id '"+fileID+"' in vector store '"+vsID+"'.")
	if _, err := c.files.Delete(ctx, fileID); err != nil {
		t.Fatal(err)
	}
	if srv.FileObjects() != 0 {
		t.Errorf("FileObjects() = %d, want 0", srv.FileObjects())
	}
}

func TestDeleteFileDetachesEverywhere(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	a, b := srv.AddVectorStore("a"), srv.AddVectorStore("b")
	id := srv.AddFile(a, "x.md", "shared", nil)
	if _, err := c.stores.Files.New(t.Context(), b, openai.VectorStoreFileNewParams{FileID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.files.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if len(srv.Files(a)) != 0 || len(srv.Files(b)) != 0 {
		t.Errorf("deleted file still attached: %v %v", srv.Files(a), srv.Files(b))
	}
}

func TestSetProcessing(t *testing.T) {
	tests := []struct {
		name          string
		getsUntilDone int
		failWith      string
		wantAttach    openai.VectorStoreFileStatus
		wantGets      []openai.VectorStoreFileStatus
		wantLastError string
	}{
		{name: "default after one GET", getsUntilDone: 1, wantAttach: "in_progress",
			wantGets: []openai.VectorStoreFileStatus{"completed", "completed"}},
		{name: "immediately", getsUntilDone: 0, wantAttach: "completed",
			wantGets: []openai.VectorStoreFileStatus{"completed"}},
		{name: "after two GETs", getsUntilDone: 2, wantAttach: "in_progress",
			wantGets: []openai.VectorStoreFileStatus{"in_progress", "completed"}},
		{name: "fails", getsUntilDone: 1, failWith: "The file could not be parsed.", wantAttach: "in_progress",
			wantGets: []openai.VectorStoreFileStatus{"failed"}, wantLastError: "The file could not be parsed."},
		{name: "fails immediately", failWith: "boom", wantAttach: "failed",
			wantGets: []openai.VectorStoreFileStatus{"failed"}, wantLastError: "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer(t, testKey)
			c := newClients(srv)
			vsID := srv.AddVectorStore("docs")
			srv.SetProcessing(tt.getsUntilDone, tt.failWith)
			fileID := upload(t, c, "a.md", "some text")
			vf, err := c.stores.Files.New(t.Context(), vsID, openai.VectorStoreFileNewParams{FileID: fileID})
			if err != nil {
				t.Fatal(err)
			}
			if vf.Status != tt.wantAttach {
				t.Errorf("attach status %q, want %q", vf.Status, tt.wantAttach)
			}
			for i, want := range tt.wantGets {
				vf, err = c.stores.Files.Get(t.Context(), vsID, fileID)
				if err != nil {
					t.Fatal(err)
				}
				if vf.Status != want {
					t.Errorf("GET %d: status %q, want %q", i+1, vf.Status, want)
				}
			}
			if vf.LastError.Message != tt.wantLastError || (tt.wantLastError != "" && vf.LastError.Code != "server_error") {
				t.Errorf("last_error = %s, want message %q", vf.LastError.RawJSON(), tt.wantLastError)
			}
			if got := srv.Files(vsID)[0].Status; got != string(vf.Status) {
				t.Errorf("Files status %q, want %q", got, vf.Status)
			}
		})
	}

	t.Run("a list page is an observation", func(t *testing.T) {
		srv := openaitest.NewServer(t, testKey)
		c := newClients(srv)
		vsID := srv.AddVectorStore("docs")
		fileID := upload(t, c, "a.md", "some text")
		if _, err := c.stores.Files.New(t.Context(), vsID, openai.VectorStoreFileNewParams{FileID: fileID}); err != nil {
			t.Fatal(err)
		}
		page, err := c.stores.Files.List(t.Context(), vsID, openai.VectorStoreFileListParams{
			Filter: openai.VectorStoreFileListParamsFilterCompleted})
		if err != nil || len(page.Data) != 1 || page.Data[0].ID != fileID {
			t.Errorf("completed files after one list: %v, %v", page, err)
		}
	})
}

func TestAttachValidation(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	vsID := srv.AddVectorStore("docs")
	fileID := upload(t, c, "a.md", "text")

	many := map[string]openai.VectorStoreFileNewParamsAttributeUnion{}
	for i := range 17 {
		many[fmt.Sprintf("k%02d", i)] = attrString("v")
	}
	sixteen := map[string]openai.VectorStoreFileNewParamsAttributeUnion{}
	for i := range 16 {
		sixteen[fmt.Sprintf("k%02d", i)] = attrString(strings.Repeat("é", 512))
	}
	tests := []struct {
		name       string
		vsID       string
		params     openai.VectorStoreFileNewParams
		wantStatus int
		wantParam  string
		wantMsg    string
	}{
		{name: "16 keys of 512 characters", vsID: vsID, params: openai.VectorStoreFileNewParams{FileID: fileID,
			Attributes: sixteen}, wantStatus: 200},
		{name: "17 keys", vsID: vsID, params: openai.VectorStoreFileNewParams{FileID: fileID, Attributes: many},
			wantStatus: 400, wantParam: "attributes", wantMsg: "at most 16 properties"},
		{name: "long key", vsID: vsID, params: openai.VectorStoreFileNewParams{FileID: fileID,
			Attributes: map[string]openai.VectorStoreFileNewParamsAttributeUnion{strings.Repeat("k", 65): attrString("v")}},
			wantStatus: 400, wantParam: "attributes", wantMsg: "key too long"},
		{name: "long value", vsID: vsID, params: openai.VectorStoreFileNewParams{FileID: fileID,
			Attributes: map[string]openai.VectorStoreFileNewParamsAttributeUnion{"k": attrString(strings.Repeat("v", 513))}},
			wantStatus: 400, wantParam: "attributes.k", wantMsg: "string too long"},
		{name: "unknown file", vsID: vsID, params: openai.VectorStoreFileNewParams{FileID: "file-nope"},
			wantStatus: 404, wantParam: "file_id", wantMsg: "No file found with id 'file-nope'."},
		{name: "unknown vector store", vsID: "vs_nope", params: openai.VectorStoreFileNewParams{FileID: fileID},
			wantStatus: 404, wantMsg: "No vector store found with id 'vs_nope'."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.stores.Files.New(t.Context(), tt.vsID, tt.params)
			if tt.wantStatus == 200 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if e := apiError(t, err, tt.wantStatus, "", tt.wantMsg); e.Param != tt.wantParam {
				t.Errorf("param %q, want %q", e.Param, tt.wantParam)
			}
		})
	}

	t.Run("non-scalar value", func(t *testing.T) {
		body := `{"file_id":"` + fileID + `","attributes":{"tags":["a","b"]}}`
		r := do(t, http.MethodPost, srv.URL()+"/vector_stores/"+vsID+"/files", "Bearer "+testKey, "application/json", body)
		if e := errorFields(t, r); r.status != 400 || e["param"] != "attributes.tags" {
			t.Errorf("status %d error %v, want 400 on attributes.tags", r.status, e)
		}
	})
	t.Run("missing file_id", func(t *testing.T) {
		r := do(t, http.MethodPost, srv.URL()+"/vector_stores/"+vsID+"/files", "Bearer "+testKey, "application/json", `{}`)
		if e := errorFields(t, r); r.status != 400 || e["param"] != "file_id" {
			t.Errorf("status %d error %v, want 400 on file_id", r.status, e)
		}
	})
}

func TestListFilesPagination(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	ctx := t.Context()
	vsID := srv.AddVectorStore("docs")
	var ids []string // oldest first
	for i := range 7 {
		ids = append(ids, srv.AddFile(vsID, fmt.Sprintf("f%d.md", i), "text", nil))
	}
	srv.SetProcessing(0, "boom")
	failed := upload(t, c, "bad.md", "x")
	if _, err := c.stores.Files.New(ctx, vsID, openai.VectorStoreFileNewParams{FileID: failed}); err != nil {
		t.Fatal(err)
	}
	rev := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[len(s)-1-i] = v
		}
		return out
	}
	all := append(append([]string{}, ids...), failed)

	tests := []struct {
		name        string
		params      openai.VectorStoreFileListParams
		wantIDs     []string
		wantHasMore bool
	}{
		{name: "default is newest first", wantIDs: rev(all)},
		{name: "first page", params: openai.VectorStoreFileListParams{Limit: openai.Int(3)},
			wantIDs: rev(all)[:3], wantHasMore: true},
		{name: "after", params: openai.VectorStoreFileListParams{Limit: openai.Int(3), After: openai.String(rev(all)[2])},
			wantIDs: rev(all)[3:6], wantHasMore: true},
		{name: "last page", params: openai.VectorStoreFileListParams{Limit: openai.Int(3), After: openai.String(rev(all)[5])},
			wantIDs: rev(all)[6:]},
		{name: "ascending", params: openai.VectorStoreFileListParams{Limit: openai.Int(2),
			Order: openai.VectorStoreFileListParamsOrderAsc}, wantIDs: all[:2], wantHasMore: true},
		{name: "ascending after", params: openai.VectorStoreFileListParams{Limit: openai.Int(2), After: openai.String(all[5]),
			Order: openai.VectorStoreFileListParamsOrderAsc}, wantIDs: all[6:]},
		{name: "before", params: openai.VectorStoreFileListParams{Limit: openai.Int(2), Before: openai.String(rev(all)[4])},
			wantIDs: rev(all)[2:4], wantHasMore: true},
		{name: "filter failed", params: openai.VectorStoreFileListParams{Filter: openai.VectorStoreFileListParamsFilterFailed},
			wantIDs: []string{failed}},
		{name: "filter completed", params: openai.VectorStoreFileListParams{Limit: openai.Int(100),
			Filter: openai.VectorStoreFileListParamsFilterCompleted}, wantIDs: rev(ids)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := c.stores.Files.List(ctx, vsID, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range page.Data {
				got = append(got, f.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantIDs) || page.HasMore != tt.wantHasMore {
				t.Errorf("got %v has_more=%v, want %v has_more=%v", got, page.HasMore, tt.wantIDs, tt.wantHasMore)
			}
			raw := page.RawJSON()
			if !strings.Contains(raw, `"object":"list"`) || !strings.Contains(raw, `"first_id":"`+got[0]+`"`) ||
				!strings.Contains(raw, `"last_id":"`+got[len(got)-1]+`"`) {
				t.Errorf("page %s lacks object, first_id or last_id", raw)
			}
		})
	}

	t.Run("auto paging follows after and has_more", func(t *testing.T) {
		before := len(srv.Requests("GET /vector_stores/*/files"))
		iter := c.stores.Files.ListAutoPaging(ctx, vsID, openai.VectorStoreFileListParams{Limit: openai.Int(3)})
		var got []string
		for iter.Next() {
			got = append(got, iter.Current().ID)
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(rev(all)) {
			t.Errorf("auto paging got %v, want %v", got, rev(all))
		}
		reqs := srv.Requests("GET /vector_stores/*/files")[before:]
		if len(reqs) != 3 || reqs[1].Query.Get("after") != rev(all)[2] || reqs[2].Query.Get("after") != rev(all)[5] {
			t.Errorf("auto paging made %d requests: %+v", len(reqs), reqs)
		}
	})

	t.Run("a detached cursor still pages", func(t *testing.T) {
		if _, err := c.stores.Files.Delete(ctx, vsID, ids[3]); err != nil {
			t.Fatal(err)
		}
		page, err := c.stores.Files.List(ctx, vsID, openai.VectorStoreFileListParams{After: openai.String(ids[3])})
		if err != nil || len(page.Data) != 3 || page.Data[0].ID != ids[2] {
			t.Errorf("after a detached id: %v, %v", page, err)
		}
	})

	for _, q := range []string{"limit=0", "limit=101", "order=up", "filter=done", "after=file-nope"} {
		t.Run("invalid "+q, func(t *testing.T) {
			r := do(t, http.MethodGet, srv.URL()+"/v1/vector_stores/"+vsID+"/files?"+q, "Bearer "+testKey, "", "")
			if e := errorFields(t, r); r.status != 400 || e["param"] != strings.Split(q, "=")[0] {
				t.Errorf("status %d error %v, want 400 on %s", r.status, e, q)
			}
		})
	}
}

func TestUpdateAttributes(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	vsID := srv.AddVectorStore("docs")
	id := srv.AddFile(vsID, "a.md", "text", map[string]any{"title": "Old", "rank": 3})
	vf, err := c.stores.Files.Update(t.Context(), vsID, id, openai.VectorStoreFileUpdateParams{
		Attributes: map[string]openai.VectorStoreFileUpdateParamsAttributeUnion{"title": {OfString: openai.String("New")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vf.Attributes) != 1 || vf.Attributes["title"].OfString != "New" {
		t.Errorf("Update = %s", vf.RawJSON())
	}
	if got := srv.Files(vsID)[0].Attributes; fmt.Sprint(got) != "map[title:New]" {
		t.Errorf("Files attributes %v", got)
	}
}

func TestContentOfUnprocessedFile(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	vsID := srv.AddVectorStore("docs")
	srv.SetProcessing(5, "")
	id := upload(t, c, "a.md", "text")
	if _, err := c.stores.Files.New(t.Context(), vsID, openai.VectorStoreFileNewParams{FileID: id}); err != nil {
		t.Fatal(err)
	}
	content, err := c.stores.Files.Content(t.Context(), vsID, id)
	if err != nil || len(content.Data) != 0 {
		t.Errorf("content of an in-progress file: %v, %v; want empty", content, err)
	}
	_, err = c.stores.Files.Content(t.Context(), vsID, "file-nope")
	apiError(t, err, http.StatusNotFound, "", "No file found with id 'file-nope'")
}

func TestContentPages(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	vsID := srv.AddVectorStore("docs")
	tests := []struct {
		name      string
		text      string
		wantItems int
	}{
		{name: "empty", text: "", wantItems: 0},
		{name: "one paragraph", text: "Just one line.\nAnd another.", wantItems: 1},
		{name: "paragraphs", text: "First.\n\nSecond.\n\n\nThird.\n", wantItems: 3},
		{name: "long paragraph", text: strings.Repeat("word ", 200), wantItems: 3},
		{name: "long word of multibyte runes", text: strings.Repeat("é", 500), wantItems: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := srv.AddFile(vsID, tt.name+".txt", tt.text, nil)
			page, err := c.stores.Files.Content(t.Context(), vsID, id)
			if err != nil {
				t.Fatal(err)
			}
			var joined strings.Builder
			for _, item := range page.Data {
				if item.Text == "" || len(item.Text) > 400 {
					t.Errorf("item of %d bytes", len(item.Text))
				}
				joined.WriteString(item.Text)
			}
			if joined.String() != tt.text || len(page.Data) != tt.wantItems {
				t.Errorf("%d items joining to %q, want %d joining to the text", len(page.Data), joined.String(), tt.wantItems)
			}
		})
	}
}
