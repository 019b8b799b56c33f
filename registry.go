package healthjob

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Registry holds the checks a Runner runs, each with its options. It is the
// counterpart of django-health-check's plugin_dir. The zero value is empty
// and ready to use; it is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	entries []Entry
}

// Entry is a registered check with its options.
type Entry struct {
	Check    Check
	Critical bool          // a failing critical check fails the run; default true
	Timeout  time.Duration // 0: the runner's default
	Subsets  []string      // the named subsets the check belongs to
}

// Option sets an option of a registered check.
type Option func(*Entry)

// NonCritical makes a check's failure visible without failing the run.
func NonCritical() Option { return func(e *Entry) { e.Critical = false } }

// Critical sets whether a failing check fails the run.
func Critical(critical bool) Option { return func(e *Entry) { e.Critical = critical } }

// Timeout sets the check's own deadline, overriding the runner's default.
func Timeout(d time.Duration) Option { return func(e *Entry) { e.Timeout = d } }

// Subsets adds the check to named subsets, as in django-health-check's SUBSETS.
func Subsets(names ...string) Option {
	return func(e *Entry) { e.Subsets = append(e.Subsets, names...) }
}

// Register adds a check. Its name must be non-empty, at most MaxNameLength
// characters, and not yet registered.
func (r *Registry) Register(c Check, opts ...Option) error {
	name := c.Name()
	switch {
	case name == "":
		return fmt.Errorf("register check: empty name")
	case len([]rune(name)) > MaxNameLength:
		return fmt.Errorf("register check %q: name is %d characters, at most %d fit", name, len([]rune(name)), MaxNameLength)
	}
	e := Entry{Check: c, Critical: true}
	for _, opt := range opts {
		opt(&e)
	}
	if e.Timeout < 0 {
		return fmt.Errorf("register check %q: negative timeout %s", name, e.Timeout)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Kept sorted by name: runs report their results in this order.
	i, found := slices.BinarySearchFunc(r.entries, name, func(e Entry, name string) int { return strings.Compare(e.Check.Name(), name) })
	if found {
		return fmt.Errorf("register check %q: a check of that name is already registered", name)
	}
	r.entries = slices.Insert(r.entries, i, e)
	return nil
}

// Entries returns the registered checks sorted by name.
func (r *Registry) Entries() []Entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.entries)
}

// Subset returns the checks of the named subset; the empty name selects all.
// It is an error to name a subset no check belongs to.
func (r *Registry) Subset(name string) ([]Entry, error) {
	all := r.Entries()
	if name == "" {
		return all, nil
	}
	var selected []Entry
	for _, e := range all {
		if slices.Contains(e.Subsets, name) {
			selected = append(selected, e)
		}
	}
	if selected == nil {
		return nil, fmt.Errorf("unknown subset %q", name)
	}
	return selected, nil
}

// SubsetNames lists the subset names in use, sorted.
func (r *Registry) SubsetNames() []string {
	var names []string
	for _, e := range r.Entries() {
		for _, s := range e.Subsets {
			if !slices.Contains(names, s) {
				names = append(names, s)
			}
		}
	}
	slices.Sort(names)
	return names
}
