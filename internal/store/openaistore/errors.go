package openaistore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/openai/openai-go/v3"

	"github.com/connectorhq/connector/internal/store"
)

// upstream turns an API failure into an error the tools can explain, and
// logs what an operator must fix. It never includes the API key: openai-go's
// errors print only the status.
func (s *Store) upstream(err error, what string) error {
	return upstreamError(s.logger, s.cfg.VectorStoreID, err, what)
}

func upstreamError(logger *slog.Logger, vectorStoreID string, err error, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return &store.Unavailable{Class: "upstream_error", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "the document store (OpenAI) could not be reached; try again shortly"}
	}
	switch code := apiErr.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		logger.Error("OpenAI rejected the connector's credentials: check OPENAI_API_KEY (and OPENAI_ORG_ID / OPENAI_PROJECT_ID if set)",
			"status", code, "operation", what, "api_message", apiErr.Message)
		return &store.Unavailable{Class: "upstream_auth", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "the connector's OpenAI credentials were rejected; its administrator must fix them"}
	case code == http.StatusNotFound:
		logger.Error("vector store not found: check VECTOR_STORE_ID", "vector_store_id", vectorStoreID, "operation", what, "api_message", apiErr.Message)
		return &store.Unavailable{Class: "store_missing", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "vector store not found; the connector's administrator must check its configuration"}
	case code == http.StatusTooManyRequests:
		logger.Warn("OpenAI rate limit reached after retries", "operation", what, "api_message", apiErr.Message)
		return &store.Unavailable{Class: "rate_limited", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "rate limited upstream, try again shortly"}
	default:
		logger.Warn("OpenAI request failed", "status", code, "operation", what, "api_message", apiErr.Message)
		return &store.Unavailable{Class: "upstream_error", Err: fmt.Errorf("%s: %w", what, err),
			Reason: "the document store (OpenAI) did not answer; try again shortly"}
	}
}

// statusCode returns the HTTP status of an API error, or 0.
func statusCode(err error) int {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}
