#!/usr/bin/env bash
# Prepare a Debian 12 machine for regpipe: the OS packages the local stack runs (PostgreSQL,
# Dovecot IMAP, a Java 17 runtime and Maven for the Kafka jars), the project's virtualenv, and
# the Kafka broker jars. Idempotent: every step is skipped when its result is already there.
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
if [[ ! -x .venv/bin/uv ]]; then
    say "installing uv into .venv"
    quietly .venv/bin/python -m pip install -q --disable-pip-version-check uv
fi

# Reinstall only when the dependency declaration changed since the last successful install.
stamp=.venv/.regpipe-pyproject.sha256
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$wanted" ]]; then
    say "installing regpipe and its dev dependencies into .venv"
    quietly .venv/bin/uv pip install -q -p .venv/bin/python -e ".[dev]"
    echo "$wanted" >"$stamp"
else
    say "Python dependencies up to date"
fi

# --- Kafka broker jars --------------------------------------------------------------------
say "fetching the Kafka jars (only the first run downloads)"
quietly .venv/bin/regpipe-stack fetch-kafka
say "done"
