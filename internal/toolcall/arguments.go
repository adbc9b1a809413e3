package toolcall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// maxLoggedNames bounds how many ignored argument names, and how many bytes
// of each, one call logs: the names are the client's text.
const (
	maxLoggedNames     = 10
	maxLoggedNameBytes = 64
)

// unreadable is the message of an argument failure that is this program's
// fault, not the client's.
const unreadable = "the connector could not read the arguments; try again, and report it if it persists"

// arguments decodes a tool's arguments against its input schema.
type arguments struct {
	schema   *jsonschema.Schema
	resolved *jsonschema.Resolved
	opts     Options
}

// decode checks a call's arguments and decodes them into in. It accepts
// what a client clearly means: no arguments or null count as {}, a JSON
// number for a string argument is that string exactly as written (the MCP
// Inspector CLI sends --tool-arg id=31 as 31), and arguments the schema
// does not list are dropped and returned by name (models add "limit").
// Anything else that does not fit is an invalid-argument Error that names
// the argument, what was wrong and what to send, in the client's terms:
// JSON, never Go.
func (a arguments) decode(data json.RawMessage, in any) (ignored []string, err error) {
	data = bytes.TrimSpace(data)
	fields := map[string]json.RawMessage{}
	switch {
	case len(data) == 0 || string(data) == "null":
	case data[0] != '{':
		return nil, Invalid("the arguments must be a JSON object, e.g. %s; got %s", a.opts.Example, describe(data))
	default:
		if err := json.Unmarshal(data, &fields); err != nil {
			// The SDK has parsed the request, so this is not expected.
			return nil, Invalid("the arguments are not valid JSON; send a JSON object, e.g. %s", a.opts.Example)
		}
	}

	for name := range fields {
		if _, ok := a.schema.Properties[name]; !ok {
			ignored = append(ignored, name)
			delete(fields, name)
		}
	}
	slices.Sort(ignored)

	var problems []string
	for _, name := range a.schema.Required {
		if _, ok := fields[name]; !ok {
			problems = append(problems, fmt.Sprintf("%q is missing; it must be %s, e.g. %s", name, a.want(name), a.opts.Example))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		raw := fields[name]
		want := a.schema.Properties[name].Type
		got := kind(raw)
		switch {
		case want == "string" && got == "number":
			fields[name], _ = json.Marshal(string(raw)) // as written: no float rounding
		case want != "" && !fits(want, got):
			problems = append(problems, fmt.Sprintf("%q must be %s; got %s", name, a.want(name), describe(raw)))
		}
	}
	if len(problems) > 0 {
		return ignored, Invalid("%s", strings.Join(problems, "\n"))
	}

	return ignored, a.validate(fields, in)
}

// validate checks fields against the schema's other constraints (an
// integer's fraction, say) and decodes them into in. The checks in decode
// cover every schema of this program's tools, so this is a backstop; the
// validator's wording shows Go values, so its detail goes to the log only.
func (a arguments) validate(fields map[string]json.RawMessage, in any) error {
	b, err := json.Marshal(fields)
	v := map[string]any{}
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err == nil {
		err = a.resolved.ApplyDefaults(&v)
	}
	if err != nil {
		return &Error{Class: ClassInternal, Err: err,
			Message: unreadable}
	}
	if err := a.resolved.Validate(&v); err != nil {
		return &Error{Class: ClassInvalidArgument, Err: err,
			Message: fmt.Sprintf("the arguments do not fit the tool's input schema; send e.g. %s", a.opts.Example)}
	}
	if b, err = json.Marshal(v); err == nil {
		err = json.Unmarshal(b, in)
	}
	if err != nil {
		return &Error{Class: ClassInternal, Err: err,
			Message: unreadable}
	}
	return nil
}

// want says what an argument must be: "a string, the id of a search result".
func (a arguments) want(name string) string {
	s := article(a.schema.Properties[name].Type)
	if about := a.opts.About[name]; about != "" {
		s += ", " + about
	}
	return s
}

// kind returns the JSON type of a valid JSON value, by its first byte.
func kind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}

// fits reports whether a JSON value of kind got can be of schema type want.
func fits(want, got string) bool {
	return want == got || want == "integer" && got == "number" // the validator checks the fraction
}

// describe names a JSON value for an error: its literal when short and not
// text (null, true, 31), else its kind ("a string", "an object"). Strings
// are not quoted back: they may be long, or not meant to be shown.
func describe(raw json.RawMessage) string {
	switch k := kind(raw); k {
	case "null", "boolean":
		return string(raw)
	case "number":
		if len(raw) <= 32 {
			return string(raw)
		}
		return "a number"
	default:
		return article(k)
	}
}

// article puts "a" or "an" before a JSON type name.
func article(typ string) string {
	switch typ {
	case "":
		return "a value"
	case "object", "array", "integer":
		return "an " + typ
	}
	return "a " + typ
}
