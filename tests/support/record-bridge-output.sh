#!/bin/sh
# Records what the real `ip addr show` and `ifconfig` print for a Linux bridge with the dom0's
# address, with another address, without one, and for a missing bridge, in the transcript
# format of tests/fixtures/real-output/ ($ command, [stdout], [stderr], [exit N]). Runs as root
# inside a private network namespace (unshare -n): nothing on the host's network changes.
# Usage: unshare -n sh tests/support/record-bridge-output.sh ip|ifconfig > FILE
set -u
tool=$1

tmp=$(mktemp -d)
run() {
	printf '$ %s\n' "$*"
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	printf '[stdout]\n'
	cat "$tmp/out"
	printf '[stderr]\n'
	cat "$tmp/err"
	printf '[exit %s]\n\n' "$rc"
}

show() {
	if [ "$tool" = ip ]; then run ip addr show xenbr0; else run ifconfig xenbr0; fi
}

ip link add xenbr0 type bridge
ip link set xenbr0 up
ip addr add 192.168.10.2/24 brd + dev xenbr0
show
ip addr flush dev xenbr0
ip addr add 192.168.10.20/24 brd + dev xenbr0
show
ip addr flush dev xenbr0
show
ip link del xenbr0
show
rm -rf "$tmp"
