package cli

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// NamedString is a string flag whose help names the value it takes
// (ValueName), whatever its usage text says.
type NamedString struct {
	p    *string
	name string
}

// StringVar defines a string flag, of default def, whose help shows
// valueName ("int", "duration", "url", ...) as the value it takes.
func StringVar(flags *flag.FlagSet, name, valueName, def, usage string) *string {
	v := &NamedString{p: &def, name: valueName}
	flags.Var(v, name, usage)
	return v.p
}

func (v *NamedString) Set(s string) error { *v.p = s; return nil }

func (v *NamedString) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return *v.p
}

// ValueName is the word help shows for the flag's value.
func (v *NamedString) ValueName() string { return v.name }

// ValueName is the word the help of f shows for its value: the flag's own
// name for it (StringVar), else its type's ("int", "duration", "string"),
// or "" for a boolean flag. Unlike flag.UnquoteUsage, it never takes a
// back-quoted word of the usage text for the value's name.
func ValueName(f *flag.Flag) string {
	if v, ok := f.Value.(interface{ ValueName() string }); ok {
		return v.ValueName()
	}
	name, _ := flag.UnquoteUsage(&flag.Flag{Value: f.Value})
	return name
}

// PrintFlags writes the help of every flag of flags to w, as
// flag.PrintDefaults does, but with ValueName for each value and the usage
// text as written.
func PrintFlags(w io.Writer, flags *flag.FlagSet) {
	flags.VisitAll(func(f *flag.Flag) {
		line := "  -" + f.Name
		if name := ValueName(f); name != "" {
			line += " " + name
		}
		usage := strings.ReplaceAll(f.Usage, "\n", "\n    \t")
		if !isZeroValue(f) {
			format := " (default %v)"
			if _, ok := f.Value.(*NamedString); ok || ValueName(f) == "string" {
				format = " (default %q)"
			}
			usage += fmt.Sprintf(format, f.DefValue)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, usage)
	})
}

// isZeroValue reports whether f's default is its type's zero value, which
// help does not mention.
func isZeroValue(f *flag.Flag) bool {
	if f.DefValue == "" {
		return true
	}
	typ := reflect.TypeOf(f.Value)
	var z reflect.Value
	if typ.Kind() == reflect.Pointer {
		z = reflect.New(typ.Elem())
	} else {
		z = reflect.Zero(typ)
	}
	v, ok := z.Interface().(flag.Value)
	return ok && f.DefValue == v.String()
}
