package openaistore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/openai/openai-go/v3"

	"github.com/connectorhq/connector/internal/openaihttp"
	"github.com/connectorhq/connector/internal/store"
)

// upstream turns an API failure into an error the tools can explain, and
// logs what an operator must fix. It never includes the API key: openai-go's
// errors print only the status.
// ctx is the call's, so that the log line carries its request id.
func (s *Store) upstream(ctx context.Context, err error, what string) error {
	return upstreamErrorContext(ctx, s.logger, s.cfg.VectorStoreID, err, what)
}

func upstreamError(logger *slog.Logger, vectorStoreID string, err error, what string) error {
	return upstreamErrorContext(context.Background(), logger, vectorStoreID, err, what)
}

func upstreamErrorContext(ctx context.Context, logger *slog.Logger, vectorStoreID string, err error, what string) error {
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", what, err)
	case errors.Is(err, context.DeadlineExceeded):
		// Every attempt timed out (OPENAI_TIMEOUT), or the caller's
		// deadline passed while waiting for the API: the API was slow.
		logger.WarnContext(ctx, "the OpenAI API did not answer in time", "operation", what, "err", err)
		return timeoutError(what, err)
	}
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return &store.Unavailable{Class: "upstream_error", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "the document store (OpenAI) could not be reached; try again shortly"}
	}
	switch code := apiErr.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		logger.ErrorContext(ctx, "OpenAI rejected the connector's credentials: check OPENAI_API_KEY (and OPENAI_ORG_ID / OPENAI_PROJECT_ID if set)",
			"status", code, "operation", what, "api_message", openaihttp.RedactKeys(apiErr.Message, ""))
		return &store.Unavailable{Class: "upstream_auth", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "the connector's OpenAI credentials were rejected; its administrator must fix them"}
	case code == http.StatusNotFound:
		logger.ErrorContext(ctx, "vector store not found: check VECTOR_STORE_ID", "vector_store_id", vectorStoreID, "operation", what, "api_message", openaihttp.RedactKeys(apiErr.Message, ""))
		return &store.Unavailable{Class: "store_missing", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "vector store not found; the connector's administrator must check its configuration"}
	case code == http.StatusTooManyRequests:
		logger.WarnContext(ctx, "OpenAI rate limit reached after retries", "operation", what, "api_message", openaihttp.RedactKeys(apiErr.Message, ""))
		return &store.Unavailable{Class: "rate_limited", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "rate limited upstream, try again shortly"}
	default:
		logger.WarnContext(ctx, "OpenAI request failed", "status", code, "operation", what, "api_message", openaihttp.RedactKeys(apiErr.Message, ""))
		return &store.Unavailable{Class: "upstream_error", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "the document store (OpenAI) did not answer; try again shortly"}
	}
}

// ClassTimeout is the store.Unavailable class of a call the OpenAI API did
// not answer in time; the error also wraps context.DeadlineExceeded.
const ClassTimeout = "upstream_timeout"

// timeoutError says that the OpenAI API did not answer what in time; err
// wraps context.DeadlineExceeded.
func timeoutError(what string, err error) error {
	return &store.Unavailable{Class: ClassTimeout, Err: fmt.Errorf("%s: %w", what, err),
		Reason: "the OpenAI API did not answer in time; try again shortly"}
}

// statusCode returns the HTTP status of an API error, or 0.
func statusCode(err error) int {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}
