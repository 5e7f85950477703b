#!/usr/bin/env bash
# Prepare a Debian 12 machine for regpipe: the OS packages the local stack runs (PostgreSQL,
# Dovecot IMAP, a Java 17 runtime and Maven for the Kafka jars; stress-ng for `make test-stress`),
# the project's virtualenv, and the Kafka broker jars. Idempotent: every step is skipped when its
# result is already there.
#
# Usage: scripts/bootstrap.sh [-v]     (run as root, or as a user with sudo)
set -euo pipefail

verbose=0
if [[ "${1:-}" == "-v" || "${1:-}" == "--verbose" ]]; then
    verbose=1
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { if [[ $verbose == 1 ]]; then echo "bootstrap: $*"; fi; }
die() { echo "bootstrap: error: $*" >&2; exit 1; }

# Run a step quietly; on failure show its output, which is what explains the error.
quietly() {
    local log
    log="$(mktemp)"
    if [[ $verbose == 1 ]]; then
        "$@"
    elif ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "step failed: $*"
    fi
    rm -f "$log"
}

as_root() {
    if [[ $(id -u) == 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

# --- OS packages --------------------------------------------------------------------------
missing=()
have_package() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

have_package postgresql || missing+=(postgresql)
have_package dovecot-imapd || missing+=(dovecot-imapd)
# the console's browser tests drive the system's Chromium (Playwright downloads no browser here)
have_package chromium || missing+=(chromium)
# the CPU hog of `make test-stress` (the suite must pass with it running beside)
have_package stress-ng || missing+=(stress-ng)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# Debian's python3 creates virtualenvs only with python3-venv (it ships ensurepip).
if [[ ! -x .venv/bin/python ]] && ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    missing+=(python3-venv)
fi

if (( ${#missing[@]} > 0 )); then
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them by hand"
    say "installing ${missing[*]}"
    quietly as_root apt-get update -qq
    quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "OS packages already installed"
fi

# --- Python virtualenv --------------------------------------------------------------------
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "python3 is $(python3 --version 2>&1); regpipe needs 3.11 or newer"

if [[ ! -x .venv/bin/python ]]; then
    say "creating .venv"
    quietly python3 -m venv .venv
fi
# uv installs from uv.lock. One version everywhere (here, pyproject's dev extra, deploy/Dockerfile; a test in
# tests/deploy keeps them equal) so every machine reads and writes the lock file the same way.
uv_version=0.13.9
if [[ ! -x .venv/bin/uv || "$(.venv/bin/uv --version | cut -d' ' -f2)" != "$uv_version" ]]; then
    say "installing uv $uv_version into .venv"
    quietly .venv/bin/python -m pip install -q --disable-pip-version-check "uv==$uv_version"
fi

# Install exactly what uv.lock pins (the versions the tests ran with), never a fresh resolution. A lock that no
# longer matches pyproject.toml (a dependency added or changed) stops here with the fix, before anything runs.
if ! .venv/bin/uv lock --check --offline >/dev/null 2>&1 && ! .venv/bin/uv lock --check >/dev/null 2>&1; then
    die "uv.lock does not match pyproject.toml: run '.venv/bin/uv lock' and commit uv.lock with pyproject.toml"
fi
# Reinstall only when the dependency declaration or the lock changed since the last successful install.
stamp=.venv/.regpipe-lock.sha256
wanted="$(cat pyproject.toml uv.lock | sha256sum | cut -d' ' -f1)"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$wanted" ]]; then
    say "installing regpipe and its dev dependencies from uv.lock into .venv"
    # --inexact: packages installed by hand beside the locked ones stay (a developer's tools); a fresh machine
    # has none, so it gets exactly the lock.
    quietly env UV_PROJECT_ENVIRONMENT=.venv UV_PYTHON_DOWNLOADS=never \
        .venv/bin/uv sync -q --frozen --inexact --extra dev --python .venv/bin/python
    echo "$wanted" >"$stamp"
else
    say "Python dependencies up to date"
fi

# --- Kafka broker jars --------------------------------------------------------------------
say "fetching the Kafka jars (only the first run downloads)"
quietly .venv/bin/regpipe-stack fetch-kafka
say "done"
