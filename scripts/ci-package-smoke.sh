#!/usr/bin/env bash
# What a user gets, run as a user runs it (issue 15). Two installs, the same checks:
#   1. the tarball: `npm pack`, then `npm install ./svid-bridge-X.tgz` in an empty project
#      and `npx svid-bridge …` from there;
#   2. a clone of HEAD installed with `npm ci --omit=dev` (no TypeScript, no tsx, no test
#      tooling), built with `npm run build`, and `node bin/svid-bridge.js …`.
# Each runs --version, --help, then dev (started, waited for, stopped with Ctrl-C's SIGINT),
# and against it token, verify, x509 and demo. The tarball's project also synthesizes a
# minimal CDK app that imports `svid-bridge/cdk` (aws-cdk-lib, constructs and the aws-cdk
# CLI installed at the clone's locked versions) and checks the template holds the three
# Lambdas, bundled from the package, and the layer. Needs the npm registry only.
# Usage: scripts/ci-package-smoke.sh   (from anywhere; uses the node and npm on PATH)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/svid-bridge-smoke-XXXXXX")"
dev_pid=""
cleanup() {
  if [ -n "$dev_pid" ] && kill -0 "$dev_pid" 2>/dev/null; then kill -INT "$dev_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
version="$(node -p "require('$root/package.json').version")"
export NO_UPDATE_NOTIFIER=1 npm_config_fund=false npm_config_audit=false

step() { printf '\nsmoke: %s\n' "$*"; }

# smoke <dir> <dev-bin> <command…>: the checks, with the CLI run as <command…> from <dir>.
# dev runs as <dev-bin> itself (the CLI's own node process), not through npx: npm exec
# does not pass a background job's SIGINT on, and Ctrl-C's SIGINT is what stops dev.
smoke() {
  local dir="$1" dev_bin="$2"
  shift 2
  cd "$dir"
  step "$* --version"
  test "$("$@" --version)" = "$version"
  step "$* --help"
  "$@" --help | grep -q '^Usage: svid-bridge'
  step "$dev_bin dev"
  local env_file="$dir/dev.env"
  "$dev_bin" dev --port 0 --env-out "$env_file" >"$dir/dev.out" 2>"$dir/dev.err" &
  dev_pid=$!
  for _ in $(seq 1 120); do
    grep -q SVID_BRIDGE_DEV_TOKEN= "$dir/dev.out" 2>/dev/null && break
    kill -0 "$dev_pid" 2>/dev/null || { cat "$dir/dev.err"; echo "smoke: dev exited early" >&2; return 1; }
    sleep 0.5
  done
  grep -q SVID_BRIDGE_DEV_TOKEN= "$dir/dev.out" || { cat "$dir/dev.err"; echo "smoke: dev not ready" >&2; return 1; }
  (
    # shellcheck disable=SC1090
    source "$env_file"
    step "$* token"
    token="$("$@" token --audience demo)"
    step "$* verify"
    "$@" verify "$token" --audience demo | grep -q '^spiffe_id: *spiffe://example.org/'
    step "$* x509"
    "$@" x509 --out "$dir/svid" >/dev/null
    test -s "$dir/svid/svid.pem" && test -s "$dir/svid/bundle.pem"
    step "$* demo"
    "$@" demo --quiet | grep -q '^jwt_svid: .*verified through OIDC discovery$'
  )
  step "stop dev (SIGINT)"
  kill -INT "$dev_pid"
  local code=0
  wait "$dev_pid" || code=$?
  dev_pid=""
  test "$code" = 0 || { cat "$dir/dev.err"; echo "smoke: dev exited $code" >&2; return 1; }
  test ! -e "$env_file" || { echo "smoke: dev left $env_file behind" >&2; return 1; }
  if grep -q 'rotation failed' "$dir/dev.err"; then
    cat "$dir/dev.err"
    echo "smoke: dev logged 'rotation failed'" >&2
    return 1
  fi
}

step "npm pack"
mkdir -p "$work/pack" "$work/project"
(cd "$root" && npm pack --silent --pack-destination "$work/pack" >/dev/null)
tarball="$(ls "$work"/pack/svid-bridge-*.tgz)"
echo "smoke: $(basename "$tarball"): $(wc -c <"$tarball") bytes, $(tar tzf "$tarball" | wc -l) files"
if tar tzf "$tarball" | grep -E '^package/(test|bench|scripts/ci|\.ci)/'; then
  echo "smoke: the tarball ships tests or benchmarks" >&2
  exit 1
fi
tar tzf "$tarball" | grep -qx 'package/dist/svid-bridge-layer.zip' || { echo "smoke: the tarball has no layer zip" >&2; exit 1; }

step "npm install the tarball into an empty project"
(cd "$work/project" && npm init -y >/dev/null && npm install --silent --prefer-offline "$tarball")
step "import what the package exports"
(cd "$work/project" && node --input-type=module -e '
  const checks = {
    "svid-bridge": (m) => typeof m.main === "function",
    "svid-bridge/client": (m) => typeof m.SvidBridgeClient === "function" && typeof m.InProcessSvidSource === "function",
    "svid-bridge/client/middy": (m) => Object.keys(m).length > 0,
    "svid-bridge/spiffe/spiffe-id": (m) => typeof m.SpiffeId === "function",
  };
  for (const [name, ok] of Object.entries(checks))
    if (!ok(await import(name))) throw new Error(`${name}: not what it should export`);
')

step "cdk synth an app that imports svid-bridge/cdk"
locked() { node -p "require('$root/package-lock.json').packages['node_modules/$1'].version"; }
(
  cd "$work/project"
  npm install --silent --prefer-offline "aws-cdk-lib@$(locked aws-cdk-lib)" "constructs@$(locked constructs)" \
    "aws-cdk@$(locked aws-cdk)"
  cat >cdk-app.mjs <<'APP'
import { App, Stack } from "aws-cdk-lib";
import { SvidBridge } from "svid-bridge/cdk";
const app = new App();
new SvidBridge(new Stack(app, "SmokeBridge"), "Bridge", { trustDomain: "example.org" });
app.synth();
APP
  echo '{ "app": "node cdk-app.mjs" }' >cdk.json
  CDK_DISABLE_CLI_TELEMETRY=true npx --no-install cdk synth --no-notices -q -o cdk.out >/dev/null
  node --input-type=module -e '
    import { existsSync, readFileSync } from "node:fs";
    const template = JSON.parse(readFileSync("cdk.out/SmokeBridge.template.json", "utf8"));
    const resources = Object.entries(template.Resources);
    for (const name of ["Exchange", "Discovery", "Rotation"]) {
      const fn = resources.find(([id, r]) => r.Type === "AWS::Lambda::Function" && id.startsWith(`Bridge${name}Function`));
      if (!fn) throw new Error(`no ${name} function in the template`);
      const asset = `asset.${String(fn[1].Properties.Code.S3Key).replace(/\.zip$/, "")}`;
      if (fn[1].Properties.Handler !== "index.handler" || !existsSync(`cdk.out/${asset}/index.mjs`))
        throw new Error(`${name}: not bundled (${asset})`);
    }
    if (!resources.some(([, r]) => r.Type === "AWS::Lambda::LayerVersion")) throw new Error("no layer in the template");
  '
)
smoke "$work/project" "$work/project/node_modules/.bin/svid-bridge" npx --no-install svid-bridge

step "a clone of HEAD with npm ci --omit=dev"
git clone -q --no-local "$root" "$work/clone"
(cd "$work/clone" && npm ci --silent --prefer-offline --omit=dev && npm run --silent build)
test ! -e "$work/clone/node_modules/typescript" || { echo "smoke: --omit=dev installed typescript" >&2; exit 1; }
smoke "$work/clone" "$work/clone/bin/svid-bridge.js" node "$work/clone/bin/svid-bridge.js"

printf '\nsmoke: ok\n'
