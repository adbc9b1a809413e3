package access_test

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/connectorhq/connector/internal/access"
)

func TestParseFile(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{name: "lines", in: "group:hr\nuser:alice@example.com\n", want: "group:hr,user:alice@example.com"},
		{name: "comments", in: "# HR only\n\ngroup:hr # the HR group\n  # indented comment\nrole:admin#tight\n", want: "group:hr,role:admin"},
		{name: "crlf", in: "group:hr\r\nrole:admin\r\n", want: "group:hr,role:admin"},
		{name: "bom", in: "\uFEFFgroup:hr\n", want: "group:hr"},
		{name: "no final newline", in: "group:hr", want: "group:hr"},
		{name: "duplicates", in: "group:hr\nGroup:hr\ngroup:hr # again\n", want: "group:hr"},
		{name: "empty", in: "", want: "none"},
		{name: "comments only", in: "# nobody\n\n  \r\n", want: "none"},
		{name: "explicit none", in: "none\n", want: "none"},
		{name: "bad kind", in: "# HR\n\ngrp:hr\n", err: `docs/hr/.access:3: "grp:hr": unknown kind "grp"; write group:NAME`},
		{name: "two a line", in: "group:a\ngroup:b, group:c\n", err: `docs/hr/.access:2: "group:b, group:c": name contains ","`},
		{name: "bom mid-file", in: "group:a\n\uFEFFgroup:b\n", err: "docs/hr/.access:2:"},
		{name: "none combined", in: "group:a\n\nnone\n", err: `docs/hr/.access:3: "none" cannot be combined`},
		{name: "too large", in: strings.Repeat("group:a\n", 8193), err: "docs/hr/.access: larger than 64 KiB"},
	} {
		got, err := access.ParseFile("docs/hr/.access", strings.NewReader(tc.in))
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %q, %v; want error containing %q", tc.name, got, err, tc.err)
		case tc.err == "" && (err != nil || got.String() != tc.want):
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	big := strings.Repeat("#", access.MaxFileSize-len("group:a\n")) + "\ngroup:a"
	if l, err := access.ParseFile("big", strings.NewReader(big)); err != nil || l.String() != "group:a" {
		t.Errorf("file of exactly MaxFileSize: %q, %v", l, err)
	}
	bad := errors.New("disk on fire")
	if _, err := access.ParseFile("x/.access", iotest.ErrReader(bad)); !errors.Is(err, bad) || !strings.HasPrefix(err.Error(), "x/.access: reading: ") {
		t.Errorf("read error: %v", err)
	}
}
