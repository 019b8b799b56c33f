package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/healthjob/healthjob/job"
)

func runCheck(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "check", "[--config FILE] [--subset NAME] [--format text|json] [--color auto|always|never]")
	subset := f.String("subset", "", "run only the checks of the subset `NAME`")
	format := f.String("format", "text", "output `format`: text (the monitor's lines) or json (the payload)")
	color := colorFlag("auto")
	f.Var(&color, "color", "colour the status texts: `auto` (on a terminal, unless NO_COLOR is set), always or never")
	if err := f.parse(args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageErr(fmt.Errorf("--format: want text or json, got %q", *format))
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, e, cfg, *subset)
	if err != nil {
		return err
	}
	defer a.close()
	jc := job.Config{Runner: a.runner, Subset: *subset, Processor: a.processor, Logger: a.log}
	if *format == "text" {
		jc.Console, jc.Color = e.stdout, color.enabled(e)
	}
	run, err := job.Cycle(ctx, jc)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(run); err != nil {
			return err
		}
	}
	if !run.OK() {
		return &exitError{code: exitFailure} // the lines already say which checks failed
	}
	return nil
}
