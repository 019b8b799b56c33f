package cli

import (
	"context"
	"fmt"

	"github.com/healthjob/healthjob/internal/config"
	"go.yaml.in/yaml/v3"
)

func runConfig(_ context.Context, e *env, args []string) error {
	f := newFlags(e, "config", "[--config FILE] [--validate]")
	validate := f.Bool("validate", false, "only validate the settings and build every check; print a one-line summary")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	reg, err := buildChecks(e, cfg)
	if err != nil {
		return usageErr(err)
	}
	if *validate {
		source := cfg.File
		if source == "" {
			source = "defaults and environment"
		}
		fmt.Fprintf(e.stdout, "%s: valid, %d checks\n", source, len(reg.Entries()))
		return nil
	}
	out, err := yaml.Marshal(effective(cfg.Redacted()))
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

// effective renders the settings and checks as a YAML document in the order
// of the configuration reference.
func effective(cfg *config.Config) *yaml.Node {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	add := func(m *yaml.Node, key string, v any) {
		val := &yaml.Node{}
		if n, ok := v.(*yaml.Node); ok {
			val = n
		} else if err := val.Encode(v); err != nil {
			val = &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(v)}
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, val)
	}
	for _, s := range cfg.Settings() {
		add(doc, s.Name, s.Value)
	}
	checks := &yaml.Node{Kind: yaml.SequenceNode}
	for _, ch := range cfg.CheckList() {
		item := &yaml.Node{Kind: yaml.MappingNode}
		add(item, "type", ch.Type)
		if ch.Name != "" {
			add(item, "name", ch.Name)
		}
		if ch.Critical != nil {
			add(item, "critical", *ch.Critical)
		}
		if ch.Timeout != 0 {
			add(item, "timeout", ch.Timeout)
		}
		if len(ch.Subsets) > 0 {
			add(item, "subsets", ch.Subsets)
		}
		if ch.FailureThreshold != nil {
			add(item, "failure_threshold", *ch.FailureThreshold)
		}
		if ch.SuccessThreshold != nil {
			add(item, "success_threshold", *ch.SuccessThreshold)
		}
		if ch.Options != nil {
			item.Content = append(item.Content, ch.Options.Content...)
		}
		checks.Content = append(checks.Content, item)
	}
	add(doc, "checks", checks)
	return doc
}
