# Two commands do all set-up on a fresh machine with Go installed:
#   make demo   - the main job on the embedded filesystem store
#   make test   - every test, with xdelta3 interop and a real S3 server (versitygw)
GO ?= go

.PHONY: all build test test-long demo bench vet fmt

all: build

build:
	CGO_ENABLED=0 $(GO) build -o bin/deltaglider ./cmd/deltaglider

test:
	bash scripts/test.sh

test-long:
	LONG=1 bash scripts/test.sh

demo: build
	bash scripts/demo.sh

bench:
	bash bench/compare.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .
