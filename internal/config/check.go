package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Check is one item of the `checks:` list: the keys every check has, and the
// type's own options kept raw until its constructor decodes them with Decode.
type Check struct {
	Type     string   `yaml:"type"`
	Name     string   `yaml:"name"`
	Critical *bool    `yaml:"critical"`
	Timeout  Duration `yaml:"timeout"`
	Subsets  []string `yaml:"subsets"`

	// The alert state's thresholds of this check; nil: the settings'.
	FailureThreshold *int `yaml:"failure_threshold"`
	SuccessThreshold *int `yaml:"success_threshold"`

	// Options holds the type's own options as a YAML mapping (nil: none).
	Options *yaml.Node `yaml:"-"`

	index int                   // 1-based position in the list, 0 for a default check
	line  int                   // line in the file
	where func(line int) string // file:line prefix
}

var commonKeys = map[string]bool{"type": true, "name": true, "critical": true, "timeout": true, "subsets": true,
	"failure_threshold": true, "success_threshold": true}

func (c *Config) parseChecks(list *yaml.Node) error {
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		c.Checks = []Check{}
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s: checks: want a list of checks, each with a type, got %s", c.where(list.Line), describe(list))
	}
	c.Checks = make([]Check, 0, len(list.Content))
	for i, item := range list.Content {
		ch := Check{index: i + 1, line: item.Line, where: c.where}
		if item.Kind != yaml.MappingNode {
			return ch.Errorf("want a mapping such as {type: redis, url: \"redis://localhost:6379\"}, got %s", describe(item))
		}
		common := &yaml.Node{Kind: yaml.MappingNode, Line: item.Line}
		opts := &yaml.Node{Kind: yaml.MappingNode, Line: item.Line}
		for j := 0; j+1 < len(item.Content); j += 2 {
			if commonKeys[item.Content[j].Value] {
				common.Content = append(common.Content, item.Content[j], item.Content[j+1])
			} else {
				opts.Content = append(opts.Content, item.Content[j], item.Content[j+1])
			}
		}
		if err := decodeMapping(common, &ch, func(line int) string { return ch.prefix(line) }); err != nil {
			return err
		}
		if ch.Type == "" {
			return ch.Errorf("type is missing; every check needs one, e.g. type: db")
		}
		if n := len([]rune(ch.Name)); n > 50 {
			return ch.Errorf("name %q is %d characters; at most 50 fit the records table", ch.Name, n)
		}
		if ch.Timeout < 0 {
			return ch.Errorf("timeout: must be more than 0, got %s", ch.Timeout)
		}
		if len(opts.Content) > 0 {
			ch.Options = opts
		}
		c.Checks = append(c.Checks, ch)
	}
	return nil
}

// prefix is "file:line: checks[i] (type)" for messages about this check.
func (ch Check) prefix(line int) string {
	what := fmt.Sprintf("checks[%d]", ch.index)
	if ch.Type != "" {
		what += " (" + ch.Type + ")"
	}
	if ch.where == nil {
		if ch.index == 0 {
			return "default check " + ch.Type
		}
		return what
	}
	return ch.where(line) + ": " + what
}

// Errorf returns an error about this check, prefixed with its place in the file.
func (ch Check) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", ch.prefix(ch.line), fmt.Sprintf(format, args...))
}

// Decode decodes the check's own options into v, a pointer to a struct whose
// yaml tags name the options (lower case). An unknown option or a value of the
// wrong type is an error that names the option and its line.
func (ch Check) Decode(v any) error {
	if ch.Options == nil {
		return nil
	}
	err := decodeMapping(ch.Options, v, func(line int) string { return ch.prefix(line) })
	if err != nil {
		return fmt.Errorf("%s", strings.Replace(err.Error(), "unknown setting", "unknown option", 1))
	}
	return nil
}

// OptionNames lists the options given, in file order.
func (ch Check) OptionNames() []string {
	if ch.Options == nil {
		return nil
	}
	var names []string
	for i := 0; i < len(ch.Options.Content); i += 2 {
		names = append(names, ch.Options.Content[i].Value)
	}
	return names
}

// redacted returns a copy whose secret options and URL passwords are masked.
func (ch Check) redacted() Check {
	if ch.Options == nil {
		return ch
	}
	opts := *ch.Options
	opts.Content = make([]*yaml.Node, len(ch.Options.Content))
	for i := 0; i < len(opts.Content); i += 2 {
		key, val := ch.Options.Content[i], *ch.Options.Content[i+1]
		if val.Kind == yaml.ScalarNode {
			if secretOption(key.Value) {
				val.Value = "*****"
			} else {
				val.Value = Redact(val.Value)
			}
		}
		opts.Content[i], opts.Content[i+1] = key, &val
	}
	ch.Options = &opts
	return ch
}
