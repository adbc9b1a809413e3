package openaitest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

func TestFiles(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	ctx := t.Context()

	f, err := c.files.New(ctx, openai.FileNewParams{Purpose: openai.FilePurposeAssistants,
		File: openai.File(strings.NewReader("hello world"), "hello.md", "text/markdown")})
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "file-000001" || f.Object != "file" || f.Bytes != 11 || f.Filename != "hello.md" ||
		f.Purpose != openai.FileObjectPurposeAssistants || f.Status != openai.FileObjectStatusProcessed ||
		f.CreatedAt == 0 {
		t.Errorf("New = %s", f.RawJSON())
	}
	for _, field := range []string{"expires_at", "status_details"} {
		if !strings.Contains(f.RawJSON(), `"`+field+`":null`) {
			t.Errorf("file object %s lacks %s: null", f.RawJSON(), field)
		}
	}
	got, err := c.files.Get(ctx, f.ID)
	if err != nil || got.RawJSON() != f.RawJSON() {
		t.Errorf("Get = %v, %v; want %s", got, err, f.RawJSON())
	}
	if srv.FileObjects() != 1 {
		t.Errorf("FileObjects() = %d, want 1", srv.FileObjects())
	}

	del, err := c.files.Delete(ctx, f.ID)
	if err != nil || del.ID != f.ID || !del.Deleted || del.Object != "file" {
		t.Errorf("Delete = %v, %v", del, err)
	}
	if srv.FileObjects() != 0 {
		t.Errorf("FileObjects() = %d after delete, want 0", srv.FileObjects())
	}
	_, err = c.files.Get(ctx, f.ID)
	apiError(t, err, http.StatusNotFound, "", "No such File object: "+f.ID)
	_, err = c.files.Delete(ctx, f.ID)
	apiError(t, err, http.StatusNotFound, "", "No such File object: "+f.ID)
}

func TestFileUploadValidation(t *testing.T) {
	tests := []struct {
		name    string
		params  openai.FileNewParams
		param   string
		wantMsg string
	}{
		{name: "missing file", params: openai.FileNewParams{Purpose: openai.FilePurposeAssistants},
			param: "file", wantMsg: "Missing required parameter: 'file'."},
		{name: "missing purpose", params: openai.FileNewParams{
			File: openai.File(strings.NewReader("x"), "x.txt", "text/plain")},
			param: "purpose", wantMsg: "Missing required parameter: 'purpose'."},
		{name: "unknown purpose", params: openai.FileNewParams{Purpose: "nonsense",
			File: openai.File(strings.NewReader("x"), "x.txt", "text/plain")},
			param: "purpose", wantMsg: "Invalid value for 'purpose': 'nonsense'."},
	}
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.files.New(t.Context(), tt.params)
			e := apiError(t, err, http.StatusBadRequest, "", tt.wantMsg)
			if e.Param != tt.param || e.Type != "invalid_request_error" {
				t.Errorf("param %q type %q, want %q invalid_request_error", e.Param, e.Type, tt.param)
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		r := do(t, http.MethodPost, srv.URL()+"/v1/files", "Bearer "+testKey, "application/json", `{"purpose":"assistants"}`)
		if r.status != http.StatusBadRequest {
			t.Errorf("status %d, want 400 (%v)", r.status, r.body)
		}
		errorFields(t, r)
	})
	if srv.FileObjects() != 0 {
		t.Errorf("FileObjects() = %d after rejected uploads", srv.FileObjects())
	}
}
