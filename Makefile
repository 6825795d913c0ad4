# The two commands a fresh machine needs (see README.md):
#   make test   install system packages, lint, build, run every test
#   make demo   install system packages, build release, run the main job
# Both call tools/install-deps first, which installs only what is missing.

SWIFT ?= swift
FORMAT_PATHS = Package.swift Sources Tests

.PHONY: test demo deps build release lint format clean

test: deps lint build
	$(SWIFT) test --disable-xctest

# Until the training pipeline lands, the main job is the environment report.
demo: deps release
	.build/release/landslide info

deps:
	tools/install-deps

build:
	$(SWIFT) build --build-tests

release:
	$(SWIFT) build -c release

lint:
	$(SWIFT) format lint --strict --recursive $(FORMAT_PATHS)

format:
	$(SWIFT) format --in-place --recursive $(FORMAT_PATHS)

clean:
	rm -rf .build
