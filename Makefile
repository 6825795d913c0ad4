# The two commands a fresh machine needs (see README.md):
#   make test   install system packages, lint, build, run every test
#   make demo   install system packages, build release, run the main job
# Both call tools/install-deps first, which installs only what is missing.

SWIFT ?= swift
FORMAT_PATHS = Package.swift Sources Tests

.PHONY: test demo deps build release lint format clean

test: deps lint build
	$(SWIFT) test --disable-xctest

# The main job end to end on the built-in synthetic study area (configs/demo.yaml):
# synthesise and prepare it, train the ensemble, map every period, score the test split.
DEMO = demo-output
LANDSLIDE = .build/release/landslide
demo: deps release
	rm -rf $(DEMO)/checkpoints  # a fresh run each time; the synthetic data is reused
	$(LANDSLIDE) train --config configs/demo.yaml --run-dir $(DEMO)
	$(LANDSLIDE) predict --checkpoint $(DEMO)/checkpoints/final.safetensors \
	  --study $(DEMO)/data/study --out $(DEMO)/maps
	$(LANDSLIDE) evaluate --predictions $(DEMO)/test --out $(DEMO)/evaluation
	@echo
	@echo "maps (GeoTIFF, a band per period):  $(DEMO)/maps/*.tif"
	@echo "quick-looks (PNG):                  $(DEMO)/maps/quicklooks/"
	@echo "figures (ROC, density scatter):     $(DEMO)/evaluation/*.svg"
	@echo "test metrics (with the oracle's):   $(DEMO)/metrics.json"
	@echo "training curves (one line/epoch):   $(DEMO)/metrics.jsonl"

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
