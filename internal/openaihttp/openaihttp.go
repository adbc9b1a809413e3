// Package openaihttp holds the HTTP plumbing the connector's openai-go
// clients share (the vector store and the embeddings API): a per-attempt
// timeout that openai-go retries, and the redaction of API keys from
// upstream messages.
package openaihttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3/option"
)

// AttemptTimeout is an openai-go middleware that gives each HTTP attempt,
// its response body included, at most d.
//
// It replaces option.WithRequestTimeout, which does bound each attempt but
// then returns that attempt's context error without retrying (Execute in
// openai-go's internal/requestconfig checks the attempt context before its
// retry decision), so a hung request was never retried. Here an attempt
// that runs out of time fails with an AttemptTimeoutError and no response,
// which openai-go retries like a dropped connection: up to its MaxRetries,
// with its backoff, and only while the caller's context lives.
func AttemptTimeout(d time.Duration) option.Middleware {
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
			return nil, &AttemptTimeoutError{Timeout: d}
		}
		return res, err
	}
}

// AttemptTimeoutError is the failure of an attempt that got no complete
// answer within the per-attempt timeout. It wraps context.DeadlineExceeded.
type AttemptTimeoutError struct{ Timeout time.Duration }

func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("the API did not answer within %s", e.Timeout)
}

func (e *AttemptTimeoutError) Unwrap() error { return context.DeadlineExceeded }

// RedactKeys cuts key (when not empty), and anything that looks like an
// OpenAI key ("sk-..."), out of an upstream message: OpenAI masks keys in
// its messages, a proxy or compatible server may not.
func RedactKeys(msg, key string) string {
	if key != "" {
		msg = strings.ReplaceAll(msg, key, "[redacted]")
	}
	if !strings.Contains(msg, "sk-") {
		return msg
	}
	f := strings.Fields(msg)
	for i, w := range f {
		if j := strings.Index(w, "sk-"); j >= 0 {
			f[i] = w[:j] + "sk-[redacted]"
		}
	}
	return strings.Join(f, " ")
}
