# healthjob's everyday commands. The Go toolchain is pinned: the go command
# fetches go1.27.3 from the module proxy on first use.
export GOTOOLCHAIN := go1.27.3
export CGO_ENABLED := 0

.PHONY: run build test bench vet

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

## bench: the runner's benchmarks
bench:
	go test -run '^$$' -bench . -benchtime 2s .
