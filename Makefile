# Front door of the patch queue.  The logic lives in scripts/; each target
# is one of them.  See README.md.

SHELL := /bin/bash
TREES := qemu xen

.PHONY: all setup fetch prepare prepare-pristine build check lint report clean help

## all: fetch, prepare and build both trees, then print a summary
all: build
	@scripts/summary

## setup: install the build and run dependencies (root, Debian 12)
setup:
	scripts/setup-host

## fetch: download and verify the pinned sources and packages
fetch:
	scripts/fetch

## prepare: unpack both trees, apply Debian's patches and our series
prepare: fetch
	for t in $(TREES); do scripts/prepare $$t || exit; done

## prepare-pristine: apply our series to the upstream trees alone
prepare-pristine: fetch
	for t in $(TREES); do scripts/prepare --pristine $$t || exit; done

## build: Xen for x86_64 and arm64, and the QEMU device model
build: prepare
	scripts/build

## lint: check the series and the patches
lint:
	scripts/lint-series

## check: all tests; ends with 'N passed, N failed, N skipped'
check:
	scripts/check

## report: the timing report of the last run
report:
	scripts/timing-report

## clean: remove build trees and outputs (out/); the download cache stays
clean:
	rm -rf out

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
