package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeMapping decodes a YAML mapping into the struct v field by field, by
// the fields' yaml tags, so that an unknown key or a value of the wrong type
// is reported with its line and key.
func decodeMapping(node *yaml.Node, v any, where func(line int) string) error {
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: want a mapping of settings, got %s", where(node.Line), describe(node))
	}
	fields := fieldsByTag(reflect.ValueOf(v).Elem())
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, val := node.Content[i], node.Content[i+1]
		f, ok := fields[key.Value]
		if !ok {
			return fmt.Errorf("%s: unknown setting %s%s", where(key.Line), key.Value, suggest(key.Value, fields))
		}
		if err := decodeValue(val, f); err != nil {
			return fmt.Errorf("%s: %s: %v", where(val.Line), key.Value, err)
		}
	}
	return nil
}

func fieldsByTag(s reflect.Value) map[string]reflect.Value {
	fields := map[string]reflect.Value{}
	for i := 0; i < s.NumField(); i++ {
		tag, _, _ := strings.Cut(s.Type().Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			fields[tag] = s.Field(i)
		}
	}
	return fields
}

// suggest names a known key that differs from key only in case, a common slip
// between the settings (upper case) and check options (lower case).
func suggest(key string, fields map[string]reflect.Value) string {
	for k := range fields {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf(" (did you mean %s?)", k)
		}
	}
	return ""
}

var durationType = reflect.TypeFor[Duration]()

// decodeValue decodes a scalar or a sequence into f with messages that name
// the expected type.
func decodeValue(n *yaml.Node, f reflect.Value) error {
	if f.Type() == durationType {
		d, err := ParseDuration(n.Value)
		if err != nil || n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a duration such as 30, 10s, 500ms or 30d, got %s", describe(n))
		}
		f.Set(reflect.ValueOf(d))
		return nil
	}
	switch f.Kind() {
	case reflect.Pointer:
		v := reflect.New(f.Type().Elem())
		if err := decodeValue(n, v.Elem()); err != nil {
			return err
		}
		f.Set(v)
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return fmt.Errorf("want a string, got %s", describe(n))
		}
		f.SetString(n.Value)
		return nil
	case reflect.Bool:
		b, err := ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			return fmt.Errorf("want true or false, got %s", describe(n))
		}
		f.SetBool(b)
		return nil
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			return fmt.Errorf("want a whole number, got %s", describe(n))
		}
		f.SetInt(i)
		return nil
	case reflect.Float64:
		x, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			return fmt.Errorf("want a number, got %s", describe(n))
		}
		f.SetFloat(x)
		return nil
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && f.Type().Elem().Kind() == reflect.String {
			f.Set(reflect.ValueOf(splitList(n.Value)).Convert(f.Type()))
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("want a list, got %s", describe(n))
		}
		s := reflect.MakeSlice(f.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := decodeValue(item, s.Index(i)); err != nil {
				return fmt.Errorf("item %d: %v", i+1, err)
			}
		}
		f.Set(s)
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("want a mapping, got %s", describe(n))
		}
		m := reflect.MakeMap(f.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			v := reflect.New(f.Type().Elem()).Elem()
			if err := decodeValue(n.Content[i+1], v); err != nil {
				return fmt.Errorf("%s: %v", n.Content[i].Value, err)
			}
			m.SetMapIndex(reflect.ValueOf(n.Content[i].Value), v)
		}
		f.Set(m)
		return nil
	}
	return fmt.Errorf("cannot decode into %s", f.Type())
}

// splitList reads a comma-separated list, the form lists take in the environment.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// ParseBool accepts the spellings of a boolean a YAML file or an environment
// variable uses: true/false, yes/no, on/off, 1/0, in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1", "y":
		return true, nil
	case "false", "no", "off", "0", "n":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// Duration is a setting's length of time. It reads plain integers as seconds
// (as the spec's HEALTH_CHECK_INTERVAL), Go duration strings ("500ms", "1m30s")
// and whole days ("30d").
type Duration time.Duration

// ParseDuration parses a Duration; see Duration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return Duration(n * float64(time.Second)), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil {
			return Duration(n * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	return Duration(d), err
}

// String renders d as Go does, or in days when it is a whole number of days.
func (d Duration) String() string {
	if d != 0 && time.Duration(d)%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(time.Duration(d)/(24*time.Hour)), 10) + "d"
	}
	return time.Duration(d).String()
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalYAML renders the duration as ParseDuration reads it.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
