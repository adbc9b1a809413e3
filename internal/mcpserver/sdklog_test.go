package mcpserver

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestSDKLoggerLevels: session chatter goes to debug, and the SDK's
// error-level lines about client mistakes go to warn, reworded, and only
// when warn is enabled.
func TestSDKLoggerLevels(t *testing.T) {
	for _, tc := range []struct {
		level   slog.Level
		logs    func(*slog.Logger)
		want    string // substring of the output; "" for none
		notWant string
	}{
		{slog.LevelWarn, func(l *slog.Logger) { l.Error("method invalid during initialization", "method", "tools/list") },
			`"level":"WARN","msg":"client called a method before initialize`, `"ERROR"`},
		{slog.LevelError, func(l *slog.Logger) { l.Error("duplicate initialize request") }, "", "initialize"},
		{slog.LevelError, func(l *slog.Logger) { l.Error("server session ended with error") }, `"level":"ERROR"`, ""},
		{slog.LevelInfo, func(l *slog.Logger) { l.Info("server session connected") }, "", "connected"},
		{slog.LevelDebug, func(l *slog.Logger) { l.Info("server session connected") }, `"level":"DEBUG"`, ""},
	} {
		var buf bytes.Buffer
		tc.logs(sdkLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tc.level}))))
		got := buf.String()
		if (tc.want == "" && got != "") || !strings.Contains(got, tc.want) || (tc.notWant != "" && strings.Contains(got, tc.notWant)) {
			t.Errorf("at %v: logged %q, want %q", tc.level, got, tc.want)
		}
	}
}
