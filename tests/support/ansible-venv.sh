#!/bin/sh
# Makes (once) a virtualenv with Ansible from PyPI for the playbook-export tests and prints the
# path of its bin/ directory. Idempotent: an existing, working venv is reused (~25 s otherwise).
#   usage: tests/support/ansible-venv.sh [VENV_DIR]   (default: target/ansible-venv)
#          tests/support/ansible-venv.sh --core 2.16|2.18|2.19   (target/ansible-venv-core-2.NN)
# The versions are pinned so the tests see the same Ansible on every machine: the `ansible`
# bundle (ansible-core plus the collections, community.general among them) of each series.
set -eu
ANSIBLE_VERSION=12.3.0   # ansible-core 2.19, the newest that runs on Debian 12's Python 3.11
here=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = "--core" ]; then
    case ${2:-} in
        2.16) ANSIBLE_VERSION=9.13.0 ;;   # ansible-core 2.16.x
        2.18) ANSIBLE_VERSION=11.13.0 ;;  # ansible-core 2.18.x
        2.19) ANSIBLE_VERSION=12.3.0 ;;
        *) echo "ansible-venv.sh: --core takes 2.16, 2.18 or 2.19, not '${2:-}'" >&2; exit 2 ;;
    esac
    set -- "$here/target/ansible-venv-core-$2"
fi
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
