package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
)

// frontMatter is what the YAML front matter of a markdown file says.
type frontMatter struct {
	title, url string
	meta       map[string]string
	access     access.List // the "access" key; nil when not given
}

// setsAccess reports whether a line of YAML front matter sets "access" at
// the top level, which it can tell even when the YAML does not parse.
func setsAccess(src string) bool {
	for line := range strings.Lines(src) {
		if rest, ok := strings.CutPrefix(line, "access"); ok && strings.HasPrefix(strings.TrimLeft(rest, " \t"), ":") {
			return true
		}
	}
	return false
}

// parseFrontMatter reads YAML front matter: "title", "url" (kept only when
// citable), "access" (the document's access list) and any other key as
// metadata. It returns warnings about what it ignored, and an error when
// the access list cannot be read: the document must then not be indexed,
// lest it become readable by callers the list would exclude.
func parseFrontMatter(src string) (frontMatter, []string, error) {
	fm := frontMatter{meta: map[string]string{}}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		if setsAccess(src) {
			return fm, nil, fmt.Errorf("front matter is not valid YAML (%v), so its access list cannot be read; fix the YAML", err)
		}
		return fm, []string{fmt.Sprintf("front matter ignored: it is not valid YAML (%v)", err)}, nil
	}
	if len(doc.Content) == 0 {
		return fm, nil, nil
	}
	root := resolveAlias(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		if isNull(root) {
			return fm, nil, nil
		}
		return fm, []string{"front matter ignored: it is not a YAML mapping of keys to values"}, nil
	}
	var warnings []string
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := resolveAlias(root.Content[i]), resolveAlias(root.Content[i+1])
		if k.Kind != yaml.ScalarNode || isNull(v) {
			continue
		}
		switch k.Value {
		case "title":
			if v.Kind == yaml.ScalarNode {
				fm.title = collapse(v.Value)
			}
		case "url":
			u := strings.TrimSpace(v.Value)
			switch {
			case v.Kind != yaml.ScalarNode:
				warnings = append(warnings, "front matter url ignored: it is not a single URL")
			case docurl.IsCitable(u):
				fm.url = u
			case u != "":
				warnings = append(warnings, fmt.Sprintf(
					"front matter url %q ignored: it is not an absolute http(s) URL; the document is indexed without one", u))
			}
		case "access":
			l, err := yamlAccess(v)
			if err != nil {
				return fm, nil, fmt.Errorf("front matter access: %w", err)
			}
			fm.access = l
		default:
			if value, ok := yamlString(v); ok {
				fm.meta[k.Value] = value
			} else {
				warnings = append(warnings, fmt.Sprintf("front matter %q ignored: its value expands to over %d items", k.Value, maxYAMLNodes))
			}
		}
	}
	return fm, warnings, nil
}

// yamlAccess parses an access list written as a YAML sequence of
// principals or as one comma-separated string.
func yamlAccess(n *yaml.Node) (access.List, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return access.ParseList(n.Value)
	case yaml.SequenceNode:
		items := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			if item = resolveAlias(item); item.Kind != yaml.ScalarNode || isNull(item) {
				return nil, fmt.Errorf("entry %d is not a principal; write a list of principals like [group:eng, user:ann@example.com]", i+1)
			}
			items = append(items, item.Value)
		}
		return access.ParseListItems(items)
	}
	return nil, errors.New("write a list of principals like [group:eng, user:ann@example.com] or one string like \"group:eng, group:ops\"")
}

// resolveAlias follows YAML aliases to the node they stand for.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is a YAML null (~, null or nothing).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// maxYAMLNodes bounds the nodes one front matter value may expand to, so
// that aliases (an "alias bomb") cannot blow a small file up.
const maxYAMLNodes = 10000

// yamlString formats a front matter value as metadata: scalars as written,
// lists joined with ", ", maps as JSON. It returns false when the value
// expands to more than maxYAMLNodes nodes.
func yamlString(n *yaml.Node) (string, bool) {
	c := yamlConverter{left: maxYAMLNodes}
	var s string
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, true
	case yaml.SequenceNode:
		items := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			switch item = resolveAlias(item); {
			case isNull(item):
			case item.Kind == yaml.ScalarNode:
				items = append(items, item.Value)
				c.left--
			default:
				items = append(items, c.json(item))
			}
		}
		s = strings.Join(items, ", ")
	default:
		s = c.json(n)
	}
	return s, c.left >= 0
}

// yamlConverter converts YAML nodes to JSON within a budget of nodes.
type yamlConverter struct {
	left int // nodes still allowed; negative once over budget
}

// json encodes a YAML node as compact JSON.
func (c *yamlConverter) json(n *yaml.Node) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c.value(n)); err != nil {
		return ""
	}
	return strings.TrimSpace(b.String())
}

// value converts a YAML node into a value for encoding/json: maps with
// string keys, slices, and typed scalars. Over budget, it returns nil.
func (c *yamlConverter) value(n *yaml.Node) any {
	n = resolveAlias(n)
	if c.left--; c.left < 0 {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[resolveAlias(n.Content[i]).Value] = c.value(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			s = append(s, c.value(item))
		}
		return s
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b
			}
		case "!!int":
			if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
				return i
			}
		case "!!float":
			var f float64
			if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f
			}
		}
		return n.Value
	}
	return nil
}
