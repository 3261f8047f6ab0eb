#!/bin/sh
# Puts a POSIX shell and the few tools the exported "raw" playbooks use (dash as /bin/sh,
# coreutils, mawk as awk) into a throwaway root, from Debian's own packages unpacked with
# dpkg-deb: nothing is installed on the host.
#   usage: tests/support/chroot-shell.sh ROOT CACHE_DIR
# Exit codes: 0 done; 1 failed; 75 the Debian archive could not be reached (callers skip).
set -eu
root=$1
cache=$2
debs="dash coreutils mawk libacl1 libattr1 libgmp10 libselinux1 libpcre2-8-0"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
missing=
for p in $debs; do
    ls "$cache/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    # Another process may hold the apt lists lock (a parallel test or a helper): retry.
    tries=0
    until (cd "$cache" && apt-get -o APT::Sandbox::User=root download $missing) >"$cache/download.log" 2>&1; do
        tries=$((tries + 1))
        if [ $tries -eq 1 ]; then apt-get update >/dev/null 2>&1 || true; fi
        if [ $tries -ge 30 ]; then
            echo "chroot-shell: apt-get download$missing failed: $(tail -2 "$cache/download.log")" >&2
            exit 75
        fi
        sleep 5
    done
fi
for p in $debs; do
    dpkg-deb -x "$(ls "$cache/${p}_"*.deb | sort | tail -1)" "$root"
done
ln -sf dash "$root/bin/sh"
mkdir -p "$root/usr/bin"
ln -sf mawk "$root/usr/bin/awk"
