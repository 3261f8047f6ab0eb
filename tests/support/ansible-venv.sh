#!/bin/sh
# Makes (once) a virtualenv with Ansible from PyPI for the playbook-export tests and prints the
# path of its bin/ directory. Idempotent: an existing, working venv is reused (~25 s otherwise).
#   usage: tests/support/ansible-venv.sh [VENV_DIR]   (default: target/ansible-venv)
# The version is pinned so the tests see the same Ansible on every machine.
set -eu
ANSIBLE_VERSION=12.3.0   # the newest that runs on Debian 12's Python 3.11
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:-${FIELDBOOK_ANSIBLE_VENV:-$here/target/ansible-venv}}
stamp="$venv/.fieldbook-ansible-$ANSIBLE_VERSION"
mkdir -p "$(dirname "$venv")"
# Test binaries run in parallel: one builds the venv, the others wait for it.
exec 9>"$venv.lock"
flock 9
if [ -f "$stamp" ] && "$venv/bin/ansible-playbook" --version >/dev/null 2>&1; then
    echo "$venv/bin"
    exit 0
fi
python=${PYTHON:-python3}
rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "ansible==$ANSIBLE_VERSION" >&2
touch "$stamp"
echo "$venv/bin"
