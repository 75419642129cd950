#!/usr/bin/env bash
# `make demo`: the quickstart, deployed for real with the Pulumi CLI against the local emulator.
#
# 1. start the Miget emulator on a free loopback port;
# 2. find the Pulumi CLI (PATH, then .pulumi-cli/), or install a pinned version into .pulumi-cli/
#    with Pulumi's official installer — and stop at once, saying what to do, if that fails;
# 3. `pulumi up` the quickstart with a local file backend and a passphrase secrets provider;
# 4. show the outputs, `pulumi destroy`, remove the stack, stop the emulator.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PULUMI_VERSION=${PULUMI_VERSION:-3.272.0}
PULUMI_INSTALL_URL=${PULUMI_INSTALL_URL:-https://get.pulumi.com}
CLI_DIR=${PULUMI_CLI_DIR:-"$ROOT/.pulumi-cli"}
DEMO_DIR=${DEMO_DIR:-"$ROOT/.demo"}
PYTHON=${DEMO_PYTHON:-"$ROOT/.venv/bin/python"}
API_KEY=miget_live_emulator_local_key

say() { printf '\n==> %s\n' "$*"; }

find_pulumi() {
  if command -v pulumi >/dev/null 2>&1; then
    command -v pulumi
  elif [ -x "$CLI_DIR/bin/pulumi" ]; then
    echo "$CLI_DIR/bin/pulumi"
  fi
}

PULUMI=$(find_pulumi)
if [ -z "$PULUMI" ]; then
  say "Pulumi CLI not found; installing v$PULUMI_VERSION into $CLI_DIR (official installer)"
  installer=$(mktemp)
  if ! curl -fsSL --connect-timeout 10 --max-time 60 "$PULUMI_INSTALL_URL" -o "$installer" \
     || ! sh "$installer" --version "$PULUMI_VERSION" --install-root "$CLI_DIR" --no-edit-path; then
    rm -f "$installer"
    cat >&2 <<EOF

make demo: could not download the Pulumi CLI (are you offline?).
Install it by hand, then run \`make demo\` again:
    curl -fsSL https://get.pulumi.com | sh -s -- --version $PULUMI_VERSION
or see https://www.pulumi.com/docs/install/ (brew install pulumi, choco install pulumi, ...).
The tests (\`make test\`) need no CLI.
EOF
    exit 1
  fi
  rm -f "$installer"
  PULUMI="$CLI_DIR/bin/pulumi"
fi
export PATH="$(dirname "$PULUMI"):$PATH"

say "Starting the Miget emulator"
mkdir -p "$DEMO_DIR/state"
"$PYTHON" -m pulumi_miget.emulator --port 0 --api-key "$API_KEY" >"$DEMO_DIR/emulator.log" 2>&1 &
EMULATOR_PID=$!
cleanup() { kill "$EMULATOR_PID" 2>/dev/null || true; wait "$EMULATOR_PID" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  API_URL=$(grep -o 'http://[^ ]*/api/v1' "$DEMO_DIR/emulator.log" | head -n 1 || true)
  [ -n "$API_URL" ] && break
  sleep 0.1
done
[ -n "${API_URL:-}" ] || { cat "$DEMO_DIR/emulator.log" >&2; echo "emulator did not start" >&2; exit 1; }
echo "emulator: $API_URL"
# Every stack names its workspace (the emulator prints its default one, as the dashboard URL shows
# a real one): without it Miget would use whichever workspace the key's user last opened.
WORKSPACE_ID=$(grep -o 'Default workspace: [0-9a-f-]*' "$DEMO_DIR/emulator.log" | head -n 1 | cut -d' ' -f3)

export PULUMI_BACKEND_URL="file://$DEMO_DIR/state"
export PULUMI_CONFIG_PASSPHRASE=demo-passphrase
export PULUMI_SKIP_UPDATE_CHECK=true
cd "$ROOT/examples/quickstart"

say "pulumi up (quickstart) against the emulator"
pulumi stack select --create demo
pulumi config set miget:apiUrl "$API_URL"
pulumi config set miget:workspaceId "$WORKSPACE_ID"
pulumi config set --secret miget:apiKey "$API_KEY"
pulumi config set --secret ghcrToken ghp_demo_token_not_real
pulumi up --yes --skip-preview

say "Stack outputs"
pulumi stack output
echo "The credential as the emulator has it:"
curl -fsS -H "Authorization: Bearer $API_KEY" "$API_URL/container_registry_credentials"
echo

say "pulumi destroy"
pulumi destroy --yes
pulumi stack rm --yes demo
say "Done: emulator stopped, stack removed."
