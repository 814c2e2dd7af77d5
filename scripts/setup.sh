# Installs what Haven's build and tests need, each only when missing (pinned versions,
# idempotent, quick when everything is present). Sourced by scripts/run.sh and
# scripts/test.sh; not meant to be run alone.

CARGO_LEPTOS_VERSION=0.3.10
# Must equal the wasm-bindgen crate pinned in Cargo.toml.
WASM_BINDGEN_VERSION=0.2.129

say() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_build_tools() {
  # rust-toolchain.toml pins the compiler; make sure its wasm target is present.
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}\$"; then
    say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (about 13 minutes, once per machine)"
    cargo install cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}\$"; then
    say "installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION}"
    cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}" --locked
  fi
}

ensure_test_tools() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v zbarimg >/dev/null || missing+=(zbar-tools)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v node >/dev/null || missing+=(nodejs npm)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} from Debian's packages"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
  # npm helpers for the tests (playwright-core drives Chromium; oauth2-mock-server is the
  # OIDC provider). Reinstalled only when the lock file changes.
  local dir=tests/browser stamp=tests/browser/node_modules/.haven-lock-sha256
  local want; want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing the browser-test helpers (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

# Release builds of the wasm run wasm-opt; npm's binaryen (Debian's is too old: its output
# does not hydrate). Installed under .tools/ once; put on PATH for cargo-leptos.
BINARYEN_VERSION=132.0.0
ensure_wasm_opt() {
  local dir=$PWD/.tools/binaryen
  if ! "$dir/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    command -v npm >/dev/null || ensure_test_tools
    say "installing wasm-opt (npm binaryen ${BINARYEN_VERSION})"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "binaryen@${BINARYEN_VERSION}"
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
}
