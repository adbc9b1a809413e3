package cli

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args, want []string
		prune      bool
	}{
		{args: []string{"a", "b"}, want: []string{"a", "b"}},
		{args: []string{"--prune", "a"}, want: []string{"a"}, prune: true},
		{args: []string{"a", "--prune", "b"}, want: []string{"a", "b"}, prune: true},
		{args: []string{"a", "--", "--prune"}, want: []string{"a", "--prune"}},
		{args: nil, want: nil},
	}
	for _, tt := range tests {
		flags := flag.NewFlagSet("test", flag.ContinueOnError)
		prune := flags.Bool("prune", false, "")
		got, err := Parse(flags, tt.args)
		if err != nil || !slices.Equal(got, tt.want) || *prune != tt.prune {
			t.Errorf("Parse(%q) = %q, prune %v, %v; want %q, prune %v", tt.args, got, *prune, err, tt.want, tt.prune)
		}
	}
	flags := flag.NewFlagSet("test", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	if _, err := Parse(flags, []string{"a", "--nope"}); err == nil {
		t.Error("an unknown flag after an argument was accepted")
	}
}

func TestGetenv(t *testing.T) {
	file := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(file, []byte("A=file\nB=file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{"A": "env", "B": ""}
	getenv, err := Getenv(func(k string) string { return environ[k] }, file, true)
	if err != nil {
		t.Fatal(err)
	}
	if a, b, c := getenv("A"), getenv("B"), getenv("C"); a != "env" || b != "file" || c != "" {
		t.Errorf("A=%q B=%q C=%q; want the environment over the file, an empty variable unset", a, b, c)
	}
	missing, none := filepath.Join(t.TempDir(), ".env"), func(string) string { return "" }
	if _, err := Getenv(none, missing, false); err != nil {
		t.Errorf("a missing default file: %v", err)
	}
	if _, err := Getenv(none, missing, true); err == nil {
		t.Error("a missing file named on the command line was accepted")
	}
}

func TestLogging(t *testing.T) {
	tests := []struct {
		args    []string
		env     map[string]string
		wantErr string // substring; "" for a logger
	}{
		{},
		{env: map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "text"}},
		{env: map[string]string{"LOG_LEVEL": "loud"}, wantErr: "LOG_LEVEL"},
		{args: []string{"--log-level", "warn"}, env: map[string]string{"LOG_LEVEL": "loud"}},
		{args: []string{"--log-format", "xml"}, env: map[string]string{"LOG_LEVEL": "loud"}, wantErr: "--log-format"},
	}
	for _, tt := range tests {
		flags := flag.NewFlagSet("test", flag.ContinueOnError)
		logging := AddLogging(flags)
		if _, err := Parse(flags, tt.args); err != nil {
			t.Fatal(err)
		}
		logger, err := logging.Logger(io.Discard, func(k string) string { return tt.env[k] })
		switch {
		case tt.wantErr == "" && (err != nil || logger == nil):
			t.Errorf("%q %v: %v", tt.args, tt.env, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q %v: error %v, want one naming %s", tt.args, tt.env, err, tt.wantErr)
		}
	}
}
