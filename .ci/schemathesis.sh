#!/usr/bin/env bash
# Fuzzes the running API from openapi.yaml with Schemathesis.
#
# Starts the local runner on a free loopback port with a throw-away data
# directory and the demo partner (--seed), signs in as the demo master by
# accepting its invitation, then runs Schemathesis twice:
#   1. partner and public routes, with "Authorization: Bearer <token>";
#   2. platform routes (and POST /v1/auth/logout, which would otherwise end
#      the run's own session), with a SigV4-shaped Authorization header: the
#      local runner does not check the signature.
# Checks: the server never answers 5xx, and every documented response matches
# its schema and content type. Exits non-zero on any failure.
#
# Environment (all optional):
#   SCHEMATHESIS_VERSION   pinned version to install (default below)
#   ST_MAX_EXAMPLES        test cases per operation and phase (default 20)
#   ST_SEED                random seed (default 1: reproducible CI runs)
#   ST_CHECKS              comma-separated checks (default below)
#   ST_TIMEOUT             seconds each Schemathesis run may take (default 120)
#   ST_REPORT_DIR          keep JUnit reports and the server log there
#   PARTNER_PORTAL_CI_CACHE  where the venv lives (default ~/.cache/partner-portal-ci)
set -euo pipefail

if [[ -n "${ST_REPORT_DIR:-}" ]]; then # relative to the caller's directory
	mkdir -p "$ST_REPORT_DIR"
	ST_REPORT_DIR="$(cd "$ST_REPORT_DIR" && pwd)"
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ST_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
CACHE="${PARTNER_PORTAL_CI_CACHE:-$HOME/.cache/partner-portal-ci}"
VENV="$CACHE/schemathesis-$ST_VERSION"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-20}"
SEED="${ST_SEED:-1}"
CHECKS="${ST_CHECKS:-not_a_server_error,response_schema_conformance,content_type_conformance}"
RUN_TIMEOUT="${ST_TIMEOUT:-120}"
READY_TIMEOUT=180 # seconds for the runner to build, start and seed

log() { printf 'schemathesis.sh: %s\n' "$*" >&2; }

# --- Schemathesis, installed once per version --------------------------------
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$ST_VERSION"; then
	log "installing schemathesis $ST_VERSION into $VENV"
	rm -rf "$VENV"
	mkdir -p "$CACHE"
	python3 -m venv "$VENV"
	"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
ST="$VENV/bin/schemathesis"
log "$("$ST" --version)"

# --- the local runner -------------------------------------------------------
WORK="$(mktemp -d)"
SERVER_PID=""
stop_server() {
	if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		# The runner was started in its own process group (setsid): end it and
		# whatever it started (function processes) together.
		kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$SERVER_PID" 2>/dev/null || kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=""
}
cleanup() {
	local rc=$?
	stop_server
	if [[ -n "${ST_REPORT_DIR:-}" && -f "$WORK/server.log" ]]; then
		mkdir -p "$ST_REPORT_DIR"
		cp "$WORK/server.log" "$ST_REPORT_DIR/server.log"
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"

if [[ ! -d cmd/portal ]]; then
	log "cmd/portal (the local runner) is missing: nothing to fuzz"
	exit 1
fi
log "building the local runner"
go build -o "$WORK/portal" ./cmd/portal
log "starting it on $BASE"
setsid "$WORK/portal" serve --addr "127.0.0.1:$PORT" --data-dir "$WORK/data" --seed \
	>"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!

server_failed() {
	log "$*; the runner's last output:"
	tail -n 40 "$WORK/server.log" >&2 || true
	exit 1
}

deadline=$((SECONDS + READY_TIMEOUT))
until curl -fsS -o /dev/null --max-time 2 "$BASE/healthz" 2>/dev/null; do
	kill -0 "$SERVER_PID" 2>/dev/null || server_failed "the runner exited before it was ready"
	((SECONDS < deadline)) || server_failed "GET /healthz not 200 within ${READY_TIMEOUT}s"
	sleep 0.5
done
log "ready"

# The seeded demo master's invitation link may be printed just after
# readiness: wait for it under the same deadline.
INVITE_TOKEN=""
until [[ -n "$INVITE_TOKEN" ]]; do
	link="$(grep -oE 'https?://[^[:space:]"]*/invitations/[A-Za-z0-9_-]+' "$WORK/server.log" | head -n 1 || true)"
	INVITE_TOKEN="${link##*/}"
	if [[ -z "$INVITE_TOKEN" ]]; then
		((SECONDS < deadline)) || server_failed "--seed printed no invitation link"
		sleep 0.5
	fi
done

# --- sign in as the demo master --------------------------------------------
# Passwords may not contain the email's local part: read the invited email
# first and draw until the random password avoids it.
curl -sS -o "$WORK/invitation.json" --max-time 30 "$BASE/v1/invitations/$INVITE_TOKEN" || true
PASSWORD="$(python3 -c 'import json, secrets, sys
try:
    local = json.load(open(sys.argv[1]))["email"].split("@")[0].lower()
except Exception:
    local = ""
while True:
    p = "CI-" + secrets.token_urlsafe(18)
    if not local or local not in p.lower():
        print(p)
        break' "$WORK/invitation.json")"
ACCEPT_BODY="$(printf '{"name":"CI Master","password":"%s"}' "$PASSWORD")"
accept_status="$(curl -sS -o "$WORK/accept.json" -w '%{http_code}' --max-time 30 \
	-X POST -H 'Content-Type: application/json' --data "$ACCEPT_BODY" \
	"$BASE/v1/invitations/$INVITE_TOKEN/accept" || true)"
BEARER="$(python3 -c 'import json, sys
try:
    print(json.load(open(sys.argv[1])).get("token") or "")
except Exception:
    print("")' "$WORK/accept.json")"
signin_failed=0
if [[ "$accept_status" != 201 || -z "$BEARER" ]]; then
	signin_failed=1
	log "FAIL: accepting the demo master invitation answered $accept_status: $(head -c 300 "$WORK/accept.json" 2>/dev/null)"
	log "partner routes are fuzzed without a valid token (expect 401s); the run fails at the end"
	BEARER="no-session"
else
	log "signed in as the demo master"
fi

# --- fuzz ------------------------------------------------------------------
SIGV4="AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=$(printf '0%.0s' $(seq 1 64))"

SPEC_FILE="$PWD/openapi.yaml"
common=(
	"$SPEC_FILE"
	--url "$BASE"
	--checks "$CHECKS"
	--max-examples "$MAX_EXAMPLES"
	--seed "$SEED"
	# One worker: Hypothesis describes filters by parsing their source with
	# ast.parse, which CPython 3.11 can fail from several threads at once
	# ("AST constructor recursion depth mismatch").
	--workers 1
	--request-timeout 15
	--generation-database none
	--suppress-health-check all
	--no-color
)

run_st() { # name, then extra arguments
	local name="$1"
	shift
	local report=()
	if [[ -n "${ST_REPORT_DIR:-}" ]]; then
		mkdir -p "$ST_REPORT_DIR"
		report=(--report junit --report-junit-path "$ST_REPORT_DIR/schemathesis-$name.xml")
	fi
	# The token is a throw-away local session, but keep it out of CI logs.
	log "run '$name': schemathesis run ${common[*]} ${*//$BEARER/<token>}"
	local rc=0
	# Run from the scratch directory: Schemathesis keeps a .schemathesis/
	# crash cache in its working directory, which should not litter the tree.
	(cd "$WORK" && timeout --signal=INT --kill-after=15 "$RUN_TIMEOUT" "$ST" run "${common[@]}" "${report[@]}" "$@") || rc=$?
	if ((rc == 124)); then
		log "run '$name' exceeded ${RUN_TIMEOUT}s"
	fi
	return "$rc"
}

failed=0
run_st api \
	--exclude-path-regex '^/v1/(platform/|auth/logout$)' \
	--header "Authorization: Bearer $BEARER" || failed=1
run_st platform \
	--include-path-regex '^/v1/(platform/|auth/logout$)' \
	--header "Authorization: $SIGV4" \
	--header "X-Amz-Date: 20260101T000000Z" || failed=1

if ((failed || signin_failed)); then
	log "FAILED (server log: $([[ -n "${ST_REPORT_DIR:-}" ]] && echo "$ST_REPORT_DIR/server.log" || echo "set ST_REPORT_DIR to keep it"))"
	exit 1
fi
log "passed"
