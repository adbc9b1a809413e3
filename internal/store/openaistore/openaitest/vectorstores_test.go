package openaitest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

func TestVectorStores(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	ctx := t.Context()

	vs, err := c.stores.New(ctx, openai.VectorStoreNewParams{Name: openai.String("docs"),
		Metadata: shared.Metadata{"owner": "tests"}})
	if err != nil {
		t.Fatal(err)
	}
	if vs.ID != "vs_000001" || vs.Object != "vector_store" || vs.Name != "docs" || vs.Status != "completed" ||
		vs.Metadata["owner"] != "tests" || vs.CreatedAt == 0 || vs.LastActiveAt < vs.CreatedAt ||
		vs.FileCounts.Total != 0 || vs.UsageBytes != 0 {
		t.Errorf("New = %s", vs.RawJSON())
	}
	for _, field := range []string{`"expires_after":null`, `"expires_at":null`, `"file_counts":{"in_progress":0,` +
		`"completed":0,"failed":0,"cancelled":0,"total":0}`} {
		if !strings.Contains(vs.RawJSON(), field) {
			t.Errorf("vector store %s lacks %s", vs.RawJSON(), field)
		}
	}

	// Seeded files show in the counts and usage.
	srv.AddFile(vs.ID, "a.md", "alpha text", nil)
	srv.AddFile(vs.ID, "b.md", "beta", nil)
	got, err := c.stores.Get(ctx, vs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FileCounts.Total != 2 || got.FileCounts.Completed != 2 || got.UsageBytes != int64(len("alpha text")+len("beta")) {
		t.Errorf("Get = %s, want 2 completed files", got.RawJSON())
	}

	// A file still processing makes the store in_progress.
	srv.SetProcessing(5, "")
	f, err := c.files.New(ctx, openai.FileNewParams{Purpose: openai.FilePurposeAssistants,
		File: openai.File(strings.NewReader("gamma"), "c.md", "text/markdown")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.stores.Files.New(ctx, vs.ID, openai.VectorStoreFileNewParams{FileID: f.ID}); err != nil {
		t.Fatal(err)
	}
	got, err = c.stores.Get(ctx, vs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "in_progress" || got.FileCounts.InProgress != 1 || got.FileCounts.Total != 3 {
		t.Errorf("Get = %s, want in_progress with 1 of 3 files processing", got.RawJSON())
	}

	del, err := c.stores.Delete(ctx, vs.ID)
	if err != nil || !del.Deleted || del.ID != vs.ID || del.Object != "vector_store.deleted" {
		t.Errorf("Delete = %v, %v", del, err)
	}
	_, err = c.stores.Get(ctx, vs.ID)
	apiError(t, err, http.StatusNotFound, "", "No vector store found with id '"+vs.ID+"'.")
	if srv.Files(vs.ID) != nil || srv.FileObjects() != 3 {
		t.Errorf("after deleting the store: Files = %v, FileObjects = %d; want nil and 3 (files stay)",
			srv.Files(vs.ID), srv.FileObjects())
	}
}

func TestVectorStoreValidation(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	auth := "Bearer " + testKey
	tests := []struct {
		name, body, param, wantMsg string
	}{
		{name: "unknown field", body: `{"name":"x","nmae":"y"}`, param: "nmae",
			wantMsg: "Unrecognized request argument supplied: nmae"},
		{name: "bad type", body: `{"name":5}`, param: "name", wantMsg: "Invalid type for 'name'"},
		{name: "not JSON", body: `name=x`, wantMsg: "We could not parse the JSON body"},
		{name: "metadata too long", body: `{"metadata":{"k":"` + strings.Repeat("v", 513) + `"}}`, param: "metadata.k",
			wantMsg: "string too long"},
		{name: "unknown file", body: `{"file_ids":["file-nope"]}`, param: "file_ids",
			wantMsg: "No file found with id 'file-nope'."},
		{name: "bad chunking", body: `{"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":50,` +
			`"chunk_overlap_tokens":10}}}`, param: "chunking_strategy", wantMsg: "max_chunk_size_tokens must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodPost, srv.URL()+"/v1/vector_stores", auth, "application/json", tt.body)
			e := errorFields(t, r)
			if r.status/100 != 4 || !strings.Contains(e["message"].(string), tt.wantMsg) ||
				(tt.param != "" && e["param"] != tt.param) {
				t.Errorf("status %d error %v, want 4xx with param %q message containing %q",
					r.status, e, tt.param, tt.wantMsg)
			}
		})
	}
}
