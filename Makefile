# Front door of the patch queue.  The logic lives in scripts/; each target
# is one of them.  See README.md.

SHELL := /bin/bash
TREES := qemu xen

# BASE=NAME: work on that base set alone (pins/bases.NAME; the first set,
# pins/bases, is "trixie").  Without it, 'make' and 'make check' take every
# set in turn and the other targets the first.
ifdef BASE
export XQ_BASE := $(BASE)
endif

.PHONY: all setup fetch prepare prepare-pristine build images images-arm64 \
	images-x86_64 boot boot-arm64 boot-x86 check lint report ci-local export-git \
	upstream-mail debian-source export-quilt fuzz \
	clean help

## all: fetch, prepare and build both trees, boot the test guests, summarise
##   (every base set; BASE=NAME for one)
all:
	@rc=0; XQ_RUN_NAME=make scripts/check fetch build images boot- || rc=$$?; scripts/summary; exit $$rc

## setup: install the build and run dependencies (root, Debian 12)
setup:
	scripts/setup-host

## fetch: download and verify the pinned sources and packages
fetch:
	scripts/fetch

## prepare: unpack both trees, apply Debian's patches and our series (and
##   both with Debian's patches alone: the references our series is run
##   against)
prepare: fetch
	for t in $(TREES); do scripts/prepare $$t || exit; done
	for t in $(TREES); do scripts/prepare --base $$t || exit; done

## prepare-pristine: apply our series to the upstream trees alone
prepare-pristine: fetch
	for t in $(TREES); do scripts/prepare --pristine $$t || exit; done

## build: Xen for x86_64 and arm64, and the QEMU device model
build: prepare
	scripts/build

## images: the boot-test images (dom0, guests) from the build
images: images-arm64 images-x86_64

## images-arm64: build Xen for arm64 alone (and the hypervisor without our
##   series), and its boot-test images
images-arm64: prepare
	scripts/build xen-arm64 xen-arm64-base
	scripts/images arm64

## images-x86_64: build Xen for x86_64 and both QEMUs alone, and their images
images-x86_64: prepare
	scripts/build xen-x86_64 qemu qemu-base
	scripts/images x86_64

## boot-arm64: the arm64 boot scenarios alone (test-vms/scenarios/arm64-*)
boot-arm64: images-arm64
	scripts/check boot-arm64

## boot-x86: the x86 boot scenarios alone (test-vms/scenarios/x86-*)
boot-x86: images-x86_64
	scripts/check boot-x86

## boot: every boot scenario (those whose pass is kept are not booted
##   again; XQ_NO_TEST_CACHE=1 boots them)
boot: images
	scripts/check boot-

## lint: check the series and the patches
lint:
	scripts/lint-series

## check: all tests on every base set; ends with 'N passed, N failed, N skipped'
##   (T='PATTERN...' runs only the tests whose names contain a PATTERN;
##   BASE=NAME checks one base set)
check:
	scripts/check $(T)

## export-git: the queue as git histories for vendors, out/export/{qemu,xen}
export-git: fetch
	for t in $(TREES); do scripts/export-git $$t || exit; done

## export-quilt: the queue of a base set as one series file and one folder
##   of patches, out/quilt/{qemu,xen} (out/SET/quilt with BASE=SET)
export-quilt:
	for t in $(TREES); do scripts/export-quilt $$t || exit; done

## upstream-mail: the "meant for upstream" patches as mails for the lists,
##   out/upstream-mail/{qemu,xen} (TREE=qemu or TREE=xen for one)
upstream-mail: fetch prepare-pristine
	for t in $(or $(TREE),$(TREES)); do scripts/upstream-mail $$t || exit; done

## debian-source: Debian source packages with our series added,
##   out/debian-source/*.dsc
debian-source: fetch
	for t in $(TREES); do scripts/debian-source $$t || exit; done

## fuzz: the long port fuzz: the test guest's 1,000,000 seeded accesses to
##   the platform device, on our device model built with ASan and UBSan
##   (SEED=N replays a seed, ACCESSES=N changes the count)
fuzz: images-x86_64
	scripts/fuzz $(if $(SEED),--seed $(SEED)) $(if $(ACCESSES),--accesses $(ACCESSES))

## report: the timing report of the last run
report:
	scripts/timing-report

## ci-local: run ci/gitlab-ci.yml here with gitlab-ci-local (see ci/README.md)
ci-local:
	scripts/ci-local

## clean: remove build trees and outputs (out/); the download cache stays
clean:
	rm -rf out

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
