package access

import (
	"fmt"
	"io"
	"strings"
)

// MaxFileSize is the largest access file read, in bytes.
const MaxFileSize = 64 << 10

// ParseFile reads an access file: one principal a line, "#" starting a
// comment (whole line or after the principal), blank lines ignored. CRLF
// line ends and a leading UTF-8 BOM are accepted. Errors name the file and
// line. A file with no principals gives List{None}: the folder's documents
// are readable by nobody, so an empty file never widens access by mistake.
func ParseFile(name string, r io.Reader) (List, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d KiB; an access file lists principals, one a line", name, MaxFileSize>>10)
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	var l List
	lines := map[Principal]int{} // first line of each principal, for errors
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		p, err := ParsePrincipal(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		if _, seen := lines[p]; !seen {
			lines[p] = i + 1
		}
		l = append(l, p)
	}
	if len(l) == 0 {
		return List{None}, nil
	}
	l, err = build(l)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, lines[None], err)
	}
	return l, nil
}
