# Partner Portal build targets. `make help` lists them.
#
# Bootstraps are built for AWS Lambda's provided.al2023 runtime on arm64,
# statically (CGO_ENABLED=0), stripped and without the RPC runtime
# (lambda.norpc). `sam build` calls the build-<LogicalId> targets with
# ARTIFACTS_DIR set; `make build` writes bin/<name>/bootstrap.

GO        ?= go
GOOS      ?= linux
GOARCH    ?= arm64
BIN       ?= bin
GOFLAGS_BUILD := -trimpath -tags lambda.norpc -ldflags="-s -w"

# Function folders under functions/, and the template's logical ids.
FUNCTIONS := accounts billing credits platform public sites
LOGICAL_IDS := AccountsFunction BillingFunction CreditsFunction PlatformFunction PublicFunction SitesFunction

.PHONY: help build test serve ci sizes bench coldstart clean $(addprefix build-,$(LOGICAL_IDS))

help:
	@echo "make build   build every bootstrap into $(BIN)/<name>/bootstrap (linux/arm64)"
	@echo "make sizes   build, then print each bootstrap's size"
	@echo "make test    go test ./..."
	@echo "make serve   run the local API (go run ./cmd/portal serve)"
	@echo "make ci      run .ci/run (what CI runs)"
	@echo "make bench   per-route DynamoDB use and AWS cost, as a markdown table"
	@echo "make coldstart  cold start of each function vs a hello-world Lambda (medians)"

build: $(addprefix $(BIN)/,$(addsuffix /bootstrap,$(FUNCTIONS)))

# Always rebuild: go's own cache makes an unchanged build cheap.
$(BIN)/%/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) build $(GOFLAGS_BUILD) -o $@ ./functions/$*

.PHONY: FORCE
FORCE:

# SAM's makefile build method: one target per function logical id, writing
# the bootstrap into $(ARTIFACTS_DIR). A static pattern rule, because make
# skips implicit rules for .PHONY targets.
$(addprefix build-,$(LOGICAL_IDS)): build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) build $(GOFLAGS_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo $* | tr A-Z a-z)

sizes: build
	@for f in $(FUNCTIONS); do \
		printf '%-10s %9d bytes  %s\n' $$f $$(wc -c < $(BIN)/$$f/bootstrap) "$(BIN)/$$f/bootstrap"; \
	done

test:
	$(GO) test ./...

serve:
	$(GO) run ./cmd/portal serve

ci:
	bash .ci/run

# The per-route cost report: BenchmarkRoutes (shared/api) runs every
# template route BENCHTIME times over a populated partner and reports round
# trips, items read and written, capacity units and the AWS cost of a
# million requests; cmd/benchtable prints it as a markdown table (the one in
# docs/performance.md).
BENCHTIME ?= 20x
bench:
	@mkdir -p $(BIN)
	$(GO) test ./shared/api -run '^$$' -bench BenchmarkRoutes -benchtime $(BENCHTIME) -count 1 > $(BIN)/bench.txt || { cat $(BIN)/bench.txt; exit 1; }
	@cat $(BIN)/bench.txt
	@echo
	@$(GO) run ./cmd/benchtable < $(BIN)/bench.txt

# Cold start of every function against a hello-world aws-lambda-go binary,
# each under aws-lambda-rie (e2e/coldstart_test.go): medians of
# COLDSTART_RUNS runs and their ratios. A measurement: it fails only when a
# function does not answer its first invocation.
COLDSTART_RUNS ?= 15
coldstart:
	COLDSTART_RUNS=$(COLDSTART_RUNS) $(GO) test ./e2e -run '^TestColdStart$$' -count 1 -v

clean:
	rm -rf $(BIN) .aws-sam
