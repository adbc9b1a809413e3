package openaistore

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3/option"
)

// observeAttempts is an openai-go middleware reporting every HTTP attempt.
// openai-go runs middlewares once per attempt, inside its retry loop, and
// numbers attempts in the X-Stainless-Retry-Count request header ("0" for
// the first; internal/requestconfig in openai-go v3).
func observeAttempts(report func(Attempt)) option.Middleware {
	return func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		start := time.Now()
		res, err := next(req)
		a := Attempt{Operation: operation(req.Method, req.URL.Path), Duration: time.Since(start)}
		a.Retry, _ = strconv.Atoi(req.Header.Get("X-Stainless-Retry-Count"))
		if err == nil && res != nil {
			a.Status = res.StatusCode
		}
		report(a)
		return res, err
	}
}

// operation names an API path for metrics, from a fixed set.
func operation(method, path string) string {
	switch {
	case strings.HasSuffix(path, "/search"):
		return "search"
	case strings.HasSuffix(path, "/content"):
		return "file_content"
	case strings.Contains(path, "/vector_stores/") && strings.Contains(path, "/files"):
		return "vector_store_file"
	case strings.Contains(path, "/vector_stores"):
		return "vector_store"
	case strings.HasSuffix(path, "/files") && method == http.MethodPost:
		return "upload"
	case strings.Contains(path, "/files"):
		return "file"
	}
	return "other"
}
