package cli

import (
	"flag"
	"strings"
	"testing"
	"time"
)

// TestPrintFlags: value names come from the flag, never from a back-quoted
// word of its usage, and the usage is printed as written.
func TestPrintFlags(t *testing.T) {
	flags := flag.NewFlagSet("test", flag.ContinueOnError)
	StringVar(flags, "reload", "duration", "", "checks for an index built by `connector index`")
	StringVar(flags, "env-file", "file", ".env", "settings file")
	flags.String("plain", "", "the `connector` way")
	flags.Int("n", 3, "how many")
	flags.Duration("timeout", time.Second, "time limit")
	flags.Bool("prune", false, "delete what `index` did not see")
	var b strings.Builder
	PrintFlags(&b, flags)
	want := "" +
		"  -env-file file\n    \tsettings file (default \".env\")\n" +
		"  -n int\n    \thow many (default 3)\n" +
		"  -plain string\n    \tthe `connector` way\n" +
		"  -prune\n    \tdelete what `index` did not see\n" +
		"  -reload duration\n    \tchecks for an index built by `connector index`\n" +
		"  -timeout duration\n    \ttime limit (default 1s)\n"
	if b.String() != want {
		t.Errorf("PrintFlags wrote\n%s\nwant\n%s", b.String(), want)
	}
}

func TestStringVar(t *testing.T) {
	flags := flag.NewFlagSet("test", flag.ContinueOnError)
	p := StringVar(flags, "addr", "host:port", "x", "")
	if *p != "x" {
		t.Errorf("default %q, want x", *p)
	}
	if err := flags.Parse([]string{"--addr", ":9"}); err != nil || *p != ":9" {
		t.Errorf("after --addr :9: %q, %v", *p, err)
	}
}
