package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(func(string) string { return "" }, nil, nil, forAll)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8000" || c.Store != "bleve" || c.IndexDir != "data/index" || c.MaxResults != 10 ||
		c.MaxQueryBytes != 2048 || c.MaxFetchChars != 200000 || c.ToolTimeout != 30*time.Second ||
		!c.SampleCorpus || c.LogLevel != slog.LevelInfo || c.LogFormat != "auto" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestConfigPrecedence(t *testing.T) {
	env := map[string]string{"MAX_RESULTS": "20", "ADDR": ":9000"}
	flagVal := "5"
	c, err := loadConfig(func(k string) string { return env[k] },
		map[string]*string{"max-results": &flagVal}, map[string]bool{"max-results": true}, forServe)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxResults != 5 || c.Addr != ":9000" {
		t.Errorf("got max_results=%d addr=%s, want the flag (5) over env, and env over the default", c.MaxResults, c.Addr)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"ADDR": "nowhere", "MAX_RESULTS": "0", "LOG_LEVEL": "loud", "PUBLIC_BASE_URL": "ftp://x",
		"TOOL_TIMEOUT": "soon", "STORE": "openai", "OPENAI_API_KEY": "", "ALLOWED_HOSTS": "https://a.example/",
	}
	_, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forServe)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"ADDR", "MAX_RESULTS", "from 1 to 50", "LOG_LEVEL", "PUBLIC_BASE_URL", "https://",
		"TOOL_TIMEOUT", "OPENAI_API_KEY", "VECTOR_STORE_ID", "ALLOWED_HOSTS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestConfigNeverShowsSecrets(t *testing.T) {
	const key = "sk-proj-very-secret"
	env := map[string]string{"OPENAI_API_KEY": key, "STORE": "openai", "VECTOR_STORE_ID": "vs_1"}
	c, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forServe)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	if strings.Contains(buf.String(), key) || !strings.Contains(buf.String(), `"openai_key_set":true`) {
		t.Errorf("log line: %s", buf.String())
	}
}

func TestDotEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "custom.env")
	os.WriteFile(path, []byte("MAX_RESULTS=3\nADDR=127.0.0.1:9999\n"), 0o600)
	var stderr bytes.Buffer
	e := env{stdout: &bytes.Buffer{}, stderr: &stderr, getenv: func(k string) string {
		if k == "ADDR" {
			return "127.0.0.1:7777" // the environment wins over .env
		}
		return ""
	}}
	c, code, ok := e.setup("search", "search", forQuery, []string{"--env-file", path, "q"}, nil)
	if !ok {
		t.Fatalf("setup failed (%d): %s", code, stderr.String())
	}
	if c.cfg.MaxResults != 3 || c.cfg.Addr != "127.0.0.1:7777" {
		t.Errorf("got %+v", c.cfg)
	}
	if _, code, ok := e.setup("search", "search", forQuery, []string{"--env-file", filepath.Join(dir, "missing.env")}, nil); ok || code != exitUsage {
		t.Errorf("a missing --env-file given explicitly must be an error")
	}
}

// TestEnvExample keeps .env.example complete: every variable, with its default.
func TestEnvExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, s := range settings {
		if !strings.Contains(text, "#"+s.env+"="+s.def+"\n") {
			t.Errorf(".env.example lacks the line #%s=%s", s.env, s.def)
		}
		if !strings.Contains(text, "# Default: ") {
			t.Fatal("no defaults documented")
		}
	}
}

// TestSettingValueNames: every flag of the table names its value with a
// word help can show (cli.PrintFlags prints it; the usage text never
// supplies it).
func TestSettingValueNames(t *testing.T) {
	for _, s := range settings {
		if s.flag == "" {
			if s.value != "" || s.queryUsage != "" {
				t.Errorf("%s has no flag but a value name or query usage", s.env)
			}
			continue
		}
		if s.value == "" || !isFlagValueName(s.value) {
			t.Errorf("--%s: value name %q is not one isFlagValueName knows", s.flag, s.value)
		}
	}
}

// isFlagValueName reports whether help may show name for a flag's value
// ("" is a boolean flag's).
func isFlagValueName(name string) bool {
	switch name {
	case "", "int", "uint", "float", "duration", "bool", "string",
		"host:port", "url", "list", "dir", "file", "name", "mode", "id", "level", "format":
		return true
	}
	return false
}

func TestConfigAddresses(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string // in the error; none: valid
	}{
		{env: map[string]string{"ADDR": ":8000"}},
		{env: map[string]string{"ADDR": "[::1]:0"}},
		{env: map[string]string{"ADDR": "localhost:http"}},
		{env: map[string]string{"ADDR": ":99999"}, want: []string{"ADDR", `":99999"`, "99999", "0 to 65535", "e.g. 127.0.0.1:8000"}},
		{env: map[string]string{"ADDR": ":-1"}, want: []string{"ADDR", "0 to 65535"}},
		{env: map[string]string{"ADDR": ":eighty"}, want: []string{"ADDR", `"eighty"`, "e.g."}},
		{env: map[string]string{"ADDR": "8000"}, want: []string{"ADDR", "not host:port", "e.g."}},
		{env: map[string]string{"METRICS_ADDR": ":70000"}, want: []string{"METRICS_ADDR", "0 to 65535", "e.g. :9090"}},
		{env: map[string]string{"METRICS_ADDR": ":9090"}},
		{env: map[string]string{"ADDR": ":9000", "METRICS_ADDR": ":9000"}, want: []string{"METRICS_ADDR", "ADDR", "e.g. :9090"}},
		{env: map[string]string{"ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0"}},
	}
	for _, tt := range tests {
		_, err := loadConfig(func(k string) string { return tt.env[k] }, nil, nil, forServe)
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("%v: %v", tt.env, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%v: no error", tt.env)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %s", tt.env, err, w)
			}
		}
	}
}
