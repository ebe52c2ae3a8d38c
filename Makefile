# The two commands of the README, plus conveniences. Everything sets itself
# up on a fresh machine (Debian packages, test peers built into a cache).
BUILD      ?= build
BUILD_TEST ?= build-test
BUILD_BENCH ?= build-bench
JOBS       ?= 2

.PHONY: all deps build test test-unit demo clean peers bench bench-quick

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

peers: deps
	@spec/harness/build-peers >/dev/null

# Every test: C unit tests and e2e under ASan+UBSan, busted, luacheck.
test: deps
	@cmake -S . -B $(BUILD_TEST) -DCMAKE_BUILD_TYPE=Debug -DVSG_WERROR=ON -DVSG_SANITIZE=ON -DVSG_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_TEST) -j $(JOBS)
	@spec/harness/build-peers >/dev/null
	@cd $(BUILD_TEST) && ctest --output-on-failure --timeout 900

# Fast loop without the peers.
test-unit: deps
	@cmake -S . -B $(BUILD_TEST) -DCMAKE_BUILD_TYPE=Debug -DVSG_WERROR=ON -DVSG_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_TEST) -j $(JOBS)
	@cd $(BUILD_TEST) && ctest --output-on-failure -L 'unit|lua'

# The main job: a local demo on vcsim (see README).
demo: build
	@spec/harness/build-peers >/dev/null
	@scripts/demo $(BUILD)/core/cmd/vsgate

# Adapter figures (bench/adapter_throughput.sh; Release, no sanitizers).
# bench-quick: a smoke run with 5,000 events per configuration.
bench: deps
	@cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=Release -DVSG_SANITIZE=OFF -DVSG_E2E=OFF >/dev/null
	@cmake --build $(BUILD_BENCH) -j $(JOBS) --target vsgate vsg-post-events bench-sink curl-floor decode-cost
	@spec/harness/build-peers >/dev/null
	@BENCH_BUILD=$(BUILD_BENCH) bench/adapter_throughput.sh

bench-quick:
	@$(MAKE) --no-print-directory bench BENCH_EVENTS=5000 BENCH_LAT_EVENTS=50 BENCH_FLOOR_REQUESTS=5000

clean:
	rm -rf $(BUILD) $(BUILD_TEST) $(BUILD_BENCH)

# Controller figures (bench/controller_scale.sh; Release, no sanitizers; a
# private etcd + kube-apiserver). BENCH_SOURCES=200 for a quicker run.
.PHONY: bench-controller
bench-controller: deps
	@cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=Release -DVSG_SANITIZE=OFF -DVSG_E2E=OFF >/dev/null
	@cmake --build $(BUILD_BENCH) -j $(JOBS) --target vsgate
	@spec/harness/build-peers >/dev/null
	@BENCH_BUILD=$(BUILD_BENCH) bench/controller_scale.sh

# Admission webhook figures (bench/admission_latency.sh; Release, no
# sanitizers; a private etcd + kube-apiserver). BENCH_DEPLOYMENTS=100 for a
# quicker run.
.PHONY: bench-admission
bench-admission: deps
	@cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=Release -DVSG_SANITIZE=OFF -DVSG_E2E=OFF >/dev/null
	@cmake --build $(BUILD_BENCH) -j $(JOBS) --target vsgate admission-load
	@spec/harness/build-peers >/dev/null
	@BENCH_BUILD=$(BUILD_BENCH) bench/admission_latency.sh
