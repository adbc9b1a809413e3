package openaihttp

import "testing"

func TestRedactKeys(t *testing.T) {
	for in, want := range map[string]string{
		"Incorrect API key provided: sk-proj-abc123XYZ. You can find": "Incorrect API key provided: sk-[redacted] You can find",
		"key=sk-live-1 rejected":               "key=sk-[redacted] rejected",
		"Rate limit reached for requests":      "Rate limit reached for requests",
		"Vector store with id vs_1 not found.": "Vector store with id vs_1 not found.",
	} {
		if got := RedactKeys(in, ""); got != want {
			t.Errorf("RedactKeys(%q) = %q, want %q", in, got, want)
		}
	}
	if got := RedactKeys("key my-own-key and sk-abc123, done", "my-own-key"); got != "key [redacted] and sk-[redacted] done" {
		t.Errorf("RedactKeys with a key = %q", got)
	}
}
