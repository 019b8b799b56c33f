# healthjob's everyday commands. The Go toolchain is pinned: the go command
# fetches go1.27.3 from the module proxy on first use.
export GOTOOLCHAIN := go1.27.3
export CGO_ENABLED := 0

.PHONY: run build test bench bench-runner

## run: the monitor on the embedded default (SQLite, no outside service)
run:
	go run ./cmd/healthjob monitor

## build: a static binary ./healthjob
build:
	go build -trimpath -o healthjob ./cmd/healthjob

## test: install and start the test services, then every test with -race
test:
	.ci/setup
	go vet ./...
	CGO_ENABLED=1 go test -race -count=1 -timeout 25m ./...

## bench: healthjob and django-health-check side by side (about 15 minutes; installs the peer)
bench:
	go run ./bench

## bench-runner: the runner's own cost per check
bench-runner:
	go test -run '^$$' -bench Runner -benchtime 2s .
