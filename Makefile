# The README's two commands: `make standalone` and `make test`. Both install what is missing
# first (scripts/install-deps.sh is idempotent), then build.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
DATA_DIR ?= ./data
PORT ?= 12345

.PHONY: deps build standalone test bench clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DDSCHED_SKIP="" >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

standalone: build
	$(BUILD_DIR)/src/cli/dsched standalone --data-dir $(DATA_DIR) --port $(PORT)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j 1

bench: build
	bash bench/run.sh $(BUILD_DIR)/src/cli/dsched

clean:
	rm -rf $(BUILD_DIR)
