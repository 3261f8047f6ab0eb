#!/bin/sh
# Makes sure Debian's OpenSSH server (sshd) and client are installed, for the fleet tests that
# start their own sshd instances on loopback ports. Run as root; another process may hold the
# apt/dpkg lock (a parallel test, a colleague's setup), so every apt step is retried.
# Installing must not start the system's sshd: a policy-rc.d that says "no" is in place for the
# duration of the install (Debian's documented way), unless one already exists.
# Exit codes: 0 ready; 1 failed; 75 the Debian archive could not be reached.
set -eu
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; then
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "sshd-setup: openssh-server is missing and installing it needs root" >&2; exit 1; }
retry() {
    n=0
    until "$@" >/tmp/fieldbook-sshd-setup.log 2>&1; do
        n=$((n + 1))
        if [ $n -ge 60 ]; then
            echo "sshd-setup: '$*' kept failing: $(tail -3 /tmp/fieldbook-sshd-setup.log)" >&2
            if grep -qi 'lock' /tmp/fieldbook-sshd-setup.log; then exit 1; fi
            exit 75
        fi
        sleep 5
    done
}
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# fieldbook sshd-setup: do not start services while installing\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
fi
cleanup() { [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
retry apt-get update
retry apt-get install -y --no-install-recommends openssh-server openssh-client
[ -x /usr/sbin/sshd ] || { echo "sshd-setup: /usr/sbin/sshd still missing after install" >&2; exit 1; }
