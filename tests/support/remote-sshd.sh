#!/usr/bin/env bash
# Starts the real OpenSSH server the --host tests (tests/remote_ssh.rs) drive: Debian's
# openssh-server on 127.0.0.1 at a free high port, with a throwaway host key, a throwaway client
# key and two dedicated non-root users:
#   fbtest  login shell /bin/sh (dash)
#   fbash   login shell busybox ash (/usr/local/lib/fieldbook-tests/ash, a link to busybox)
#   fbnosh  login shell /bin/sh but PATH=/nonexistent: stands in for a host without `sh`
#   fbnosid login shell /bin/sh, PATH=~/stubs:~/bin where ~/bin links every program of
#           /usr/bin and /usr/sbin except `setsid`: stands in for a host without setsid
# and root, by key only, for the acceptance test that runs a chroot on the host. Every user's
# authorized key is in DIR/authorized_keys_USER (no ~/.ssh is touched), so several checkouts
# can run these tests at once, each with its own server, port and keys.
# Both get PATH=~/stubs:/usr/bin:/bin (sshd's PermitUserEnvironment), so recording stubs put in
# ~/stubs come first. openssh-server and busybox are installed with apt-get if missing.
#
# Usage: tests/support/remote-sshd.sh DIR
# Prints nothing; writes DIR/port, DIR/id_ed25519 (client key), DIR/known_hosts. A server already
# started for DIR is reused. One setup at a time per DIR (flock).
# Exit codes: 0 ready; 1 setup failed; 75 a package registry could not be reached.
set -euo pipefail
EX_UNREACHABLE=75
die() { echo "remote-sshd: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
[ "$(id -u)" = 0 ] || die "must run as root (starts sshd, creates test users)"
exec 9>"$DIR/.lock"
flock 9

# openssh-server and -client the way the fleet tests install them (no service started).
sh "$(dirname "$0")/sshd-setup.sh" || exit $?
if ! command -v busybox >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  ok=
  for _ in $(seq 1 30); do
    if apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends busybox >/dev/null 2>&1; then
      ok=1; break
    fi
    sleep 5
  done
  [ -n "$ok" ] || { echo "remote-sshd: apt-get install busybox kept failing" >&2; exit "$EX_UNREACHABLE"; }
fi

# fbash's login shell: busybox ash at a path no checkout owns (the users are shared by every
# checkout's server, so a path inside one DIR broke fbash's logins once that DIR was deleted).
ASH=/usr/local/lib/fieldbook-tests/ash
mkdir -p "${ASH%/*}"
ln -sf "$(command -v busybox)" "$ASH"
fbash_shell() {
  if [ "$(getent passwd fbash | cut -d: -f7)" != "$ASH" ]; then usermod -s "$ASH" fbash; fi
}

# A running server for DIR is reused, unless this script changed since it was started.
STAMP=$(sha256sum "$0" | cut -c1-16)
if [ -f "$DIR/sshd.pid" ] && kill -0 "$(cat "$DIR/sshd.pid")" 2>/dev/null; then
  if [ -f "$DIR/port" ] && [ "$(cat "$DIR/stamp" 2>/dev/null)" = "$STAMP" ]; then
    id fbash >/dev/null 2>&1 && fbash_shell
    exit 0
  fi
  kill "$(cat "$DIR/sshd.pid")"
  sleep 0.2
fi

for u in fbtest fbash fbnosh fbnosid; do
  shell=/bin/sh
  [ "$u" = fbash ] && shell=$ASH
  if ! id "$u" >/dev/null 2>&1; then
    useradd -m -s "$shell" "$u" || die "useradd $u failed"
  else
    usermod -s "$shell" "$u"
  fi
  usermod -p '*' "$u" # no password, but not locked (sshd refuses locked accounts)
done

[ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/id_ed25519"
[ -f "$DIR/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_ed25519"
chmod 755 "$DIR"

for u in fbtest fbash fbnosh fbnosid; do
  home=$(getent passwd "$u" | cut -d: -f6)
  install -d -o "$u" -g "$u" -m 700 "$home/.ssh"
  install -d -o "$u" -g "$u" -m 755 "$home/stubs"
  # Each DIR's sshd reads its own key files (several checkouts share these users).
  # sshd reads them as the user.
  install -o "$u" -g "$u" -m 600 "$DIR/id_ed25519.pub" "$DIR/authorized_keys_$u"
  echo "PATH=$home/stubs:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" >"$home/.ssh/environment"
  [ "$u" != fbnosh ] || echo "PATH=/nonexistent" >"$home/.ssh/environment"
  if [ "$u" = fbnosid ]; then
    install -d -o "$u" -g "$u" -m 755 "$home/bin"
    for f in /usr/bin/* /usr/sbin/*; do
      [ "${f##*/}" = setsid ] || ln -sfn "$f" "$home/bin/${f##*/}"
    done
    echo "PATH=$home/stubs:$home/bin" >"$home/.ssh/environment"
  fi
  chown "$u:$u" "$home/.ssh/environment"
done

install -m 600 "$DIR/id_ed25519.pub" "$DIR/authorized_keys_root"

port=
for p in $(seq 42200 42299); do
  if ! (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || die "no free port in 42200-42299"

cat >"$DIR/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $DIR/host_ed25519
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys_%u
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
PermitUserEnvironment yes
StrictModes no
MaxSessions 100
MaxStartups 100:30:200
AllowUsers fbtest fbash fbnosh fbnosid root
CONF
mkdir -p /run/sshd
/usr/sbin/sshd -t -f "$DIR/sshd_config" || die "sshd rejects its config"
/usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log" || die "sshd did not start (see $DIR/sshd.log)"
for _ in $(seq 1 100); do
  (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.05
done
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$DIR/host_ed25519.pub")" >"$DIR/known_hosts"
echo "$port" >"$DIR/port"
echo "$STAMP" >"$DIR/stamp"
