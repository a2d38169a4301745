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

.PHONY: help build test serve ci sizes bench clean $(addprefix build-,$(LOGICAL_IDS))

help:
	@echo "make build   build every bootstrap into $(BIN)/<name>/bootstrap (linux/arm64)"
	@echo "make sizes   build, then print each bootstrap's size"
	@echo "make test    go test ./..."
	@echo "make serve   run the local API (go run ./cmd/portal serve)"
	@echo "make ci      run .ci/run (what CI runs)"
	@echo "make bench   per-route cost report (not written yet)"

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

# Placeholder: the per-route cost report (round trips, items, capacity
# units, cost per million requests) is added by the benchmark work.
bench:
	@echo "make bench: not implemented yet"

clean:
	rm -rf $(BIN) .aws-sam
