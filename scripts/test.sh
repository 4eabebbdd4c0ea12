#!/usr/bin/env bash
# Installs everything the tests need (system packages, a development virtualenv), runs ruff
# and mypy over the source, then builds the sdist and the wheel as a user gets them, installs
# the wheel into a scratch virtualenv, and runs the whole pytest suite against that installed
# avasam. The tests start their own PostgreSQL, FTP and SSH servers on 127.0.0.1.
# Extra arguments go to pytest: ./scripts/test.sh -k dispatch
set -euo pipefail
cd "$(dirname "$0")/.."
checkout="$PWD"

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v runuser >/dev/null || missing+=(util-linux)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
[ -x /usr/sbin/cron ] || missing+=(cron)
command -v pkill >/dev/null || missing+=(procps)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

# pip's output only when it fails (this machine's pip.conf makes it chatty).
pip_install() {
    local log
    log=$(mktemp)
    if ! "$@" --quiet --disable-pip-version-check >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# Development: an editable install, for the linters and the type checker.
[ -x .venv/bin/python ] || python3 -m venv .venv
pip_install .venv/bin/pip install -e '.[test,postgres]'
.venv/bin/ruff check .
.venv/bin/ruff format --check avasam_cli tests scripts bench
.venv/bin/mypy

# What a user installs: the sdist, then the wheel built from that sdist (python -m build
# does both), installed (not editable) into a scratch virtualenv.
rm -rf build/dist build/wheel-venv build/wheel-tests
mkdir -p build
.venv/bin/python -m build --outdir build/dist . >build/build.log 2>&1 \
    || { cat build/build.log >&2; exit 1; }
wheels=(build/dist/avasam-*.whl)
python3 -m venv build/wheel-venv
pip_install build/wheel-venv/bin/pip install "${wheels[0]}[test,postgres]"
if ! build/wheel-venv/bin/python -c 'import avasam_cli' 2>/dev/null; then
    echo "the wheel did not install avasam_cli" >&2
    exit 1
fi

# The suite runs from a copy outside the source tree, so `import avasam_cli` can only find
# the installed package and `avasam` is the scratch virtualenv's executable.
mkdir -p build/wheel-tests
cp -r tests setup.cfg build/wheel-tests/
find build/wheel-tests -name __pycache__ -prune -exec rm -rf {} +
export AVASAM_SOURCE_TREE="$checkout" AVASAM_TEST_INSTALLED=1
export PATH="$checkout/build/wheel-venv/bin:$PATH"
cd build/wheel-tests
set +e
"$checkout/build/wheel-venv/bin/pytest" -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
exit "$status"
