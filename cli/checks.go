package cli

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/config"
)

// checkType builds a check of one type from its entry in the configuration.
// It decodes the entry's own options with spec.Decode, fills the check
// package's Config (spec.Name, when set, overrides the default name) and
// returns the package's New. Settings such as DISK_USAGE_MAX come from cfg.
type checkType func(spec config.Check, cfg *config.Config) (healthjob.Check, error)

// checkTypes is the table of every check type the binary knows, by the name
// used in the configuration's `type:` key. Each group lives in its own file.
func checkTypes() map[string]checkType {
	all := map[string]checkType{}
	for _, group := range []map[string]checkType{
		sqlCheckTypes, serviceCheckTypes, storageCheckTypes, systemCheckTypes, probeCheckTypes, celeryCheckTypes,
	} {
		maps.Copy(all, group)
	}
	return all
}

// buildChecks registers the configured checks (or the default set) with
// their common options: critical, timeout and subsets, and the checks the
// program registered in Go.
func buildChecks(e *env, cfg *config.Config) (_ *healthjob.Registry, err error) {
	types := checkTypes()
	reg := &healthjob.Registry{}
	defer func() {
		if err != nil {
			closeChecks(reg) // nothing to report: the error says why we stop
		}
	}()
	for _, spec := range cfg.CheckList() {
		build, ok := types[spec.Type]
		if !ok {
			return nil, spec.Errorf("unknown check type %q; known types: %s", spec.Type, strings.Join(slices.Sorted(maps.Keys(types)), ", "))
		}
		c, err := build(spec, cfg)
		if err != nil {
			return nil, err
		}
		opts := []healthjob.Option{healthjob.Timeout(spec.Timeout.D()), healthjob.Subsets(spec.Subsets...)}
		if spec.Critical != nil {
			opts = append(opts, healthjob.Critical(*spec.Critical))
		}
		if err := reg.Register(c, append(opts, namedSubsets(cfg, c.Name())...)...); err != nil {
			closeCheck(c)
			return nil, spec.Errorf("%v", strings.TrimPrefix(err.Error(), "register check "))
		}
	}
	for _, x := range e.checks {
		if err := reg.Register(x.check, append(x.opts, namedSubsets(cfg, x.check.Name())...)...); err != nil {
			return nil, fmt.Errorf("check registered in Go: %v", strings.TrimPrefix(err.Error(), "register check "))
		}
	}
	for subset, names := range cfg.Subsets {
		for _, name := range names {
			if !slices.ContainsFunc(reg.Entries(), func(e healthjob.Entry) bool { return e.Check.Name() == name }) {
				return nil, fmt.Errorf("SUBSETS: subset %q names check %q, which is not configured", subset, name)
			}
		}
	}
	return reg, nil
}

// namedSubsets puts the check named name into the SUBSETS that list it.
func namedSubsets(cfg *config.Config, name string) []healthjob.Option {
	var opts []healthjob.Option
	for subset, names := range cfg.Subsets {
		if slices.Contains(names, name) {
			opts = append(opts, healthjob.Subsets(subset))
		}
	}
	return opts
}

// closeChecks closes the checks of reg that hold something between runs,
// such as the connection a db check keeps (conn_max_age). Call it once no
// run is in progress.
func closeChecks(reg *healthjob.Registry) error {
	var errs []error
	for _, e := range reg.Entries() {
		errs = append(errs, closeCheck(e.Check))
	}
	return errors.Join(errs...)
}

// closeCheck closes c if it is an io.Closer.
func closeCheck(c healthjob.Check) error {
	closer, ok := c.(io.Closer)
	if !ok {
		return nil
	}
	if err := closer.Close(); err != nil {
		return fmt.Errorf("close check %s: %w", c.Name(), err)
	}
	return nil
}
