package openaistore

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// attemptTimeout is an openai-go middleware that gives each HTTP attempt,
// its response body included, at most d.
//
// It replaces option.WithRequestTimeout, which does bound each attempt but
// then returns that attempt's context error without retrying (Execute in
// openai-go's internal/requestconfig checks the attempt context before its
// retry decision), so a hung request was never retried. Here an attempt
// that runs out of time fails with an attemptTimeoutError and no response,
// which openai-go retries like a dropped connection: up to MaxRetries, with
// its backoff, and only while the caller's context lives (it waits out the
// backoff on that context and returns the caller's error when it ends).
func attemptTimeout(d time.Duration) option.Middleware {
	return func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		parent := req.Context()
		ctx, cancel := context.WithTimeout(parent, d)
		defer cancel()
		res, err := next(req.WithContext(ctx))
		if err == nil {
			// Read the body now, within the attempt: a stall mid-body is a
			// hang of this attempt too, and is retried like one.
			var body []byte
			body, err = io.ReadAll(res.Body)
			res.Body.Close()
			if err == nil {
				res.Body = io.NopCloser(bytes.NewReader(body))
			} else {
				res = nil
				err = fmt.Errorf("read the response: %w", err)
			}
		}
		if err != nil && ctx.Err() != nil && parent.Err() == nil {
			return nil, &attemptTimeoutError{timeout: d}
		}
		return res, err
	}
}

// attemptTimeoutError is the failure of an attempt that got no complete
// answer within the per-attempt timeout (OPENAI_TIMEOUT). It wraps
// context.DeadlineExceeded.
type attemptTimeoutError struct{ timeout time.Duration }

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("the OpenAI API did not answer within %s", e.timeout)
}

func (e *attemptTimeoutError) Unwrap() error { return context.DeadlineExceeded }

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
