#!/usr/bin/env bash
# Builds the throwaway roots that tests/acceptance.rs drives the REAL sysadmin tools in:
#   DIR/openrc   a chroot holding Debian's real OpenRC `rc-update` (0.45.2), Gentoo-shaped runlevels
#                and netifrc-style net.* links; DIR/openrc/bin/rc-update is a PATH wrapper that
#                runs the real one through chroot.
#   DIR/gentoo   a private Gentoo-prefix tree driven by the real `emerge` of the `portage` PyPI
#                package in a virtualenv, with a tiny local ebuild repository (hello 1.0 installed,
#                1.1 available, greeter and tinytool new); DIR/gentoo/bin holds emerge, quickpkg,
#                portageq and etc-update wrappers, DIR/gentoo/env.sh the environment they set.
#
# Usage: scripts/acceptance-setup.sh DIR [openrc|gentoo|all]
#
# Nothing is installed on the host and nothing comes from outside the package registries:
# Debian packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x`; Portage
# comes from PyPI into a virtualenv. Downloads, the virtualenv and a pristine copy of each root
# are cached in DIR, so a second run only restores the roots (a second or two). Every run
# resets the roots to the same starting state, so tests can change them freely.
#
# Exit codes: 0 ready; 1 setup failed; 75 a package registry could not be reached (the tests
# treat that as a reason to skip, unless FIELDBOOK_ACCEPTANCE=require).
# How each tool was made to run here, and its pitfalls: shared/reference/real-tools.md.
set -euo pipefail

PORTAGE_VERSION=3.0.83
OPENRC_DEBS=(openrc librc1 libeinfo1 libc6)
TOOL_DEBS=(pax-utils) # scanelf, without which every merge complains from estrip
EX_UNREACHABLE=75

die() { echo "acceptance-setup: $*" >&2; exit 1; }
unreachable() { echo "acceptance-setup: $*" >&2; exit "$EX_UNREACHABLE"; }
log() { [ -n "${ACCEPTANCE_SETUP_QUIET:-}" ] || echo "acceptance-setup: $*" >&2; }

[ $# -ge 1 ] || die "usage: $0 DIR [openrc|gentoo|all]"
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
WHAT=${2:-all}
case $WHAT in openrc | gentoo | all) ;; *) die "unknown part '$WHAT' (openrc, gentoo or all)" ;; esac
[ "$(id -u)" = 0 ] || die "must run as root (chroot, and unpacked files owned by root)"
for tool in apt-get dpkg-deb chroot flock; do
  command -v "$tool" >/dev/null || die "'$tool' not found in PATH ($PATH)"
done

# One setup at a time per DIR (parallel test threads or two cargo runs share it).
exec 9>"$DIR/.lock"
flock 9

CACHE=$DIR/cache
mkdir -p "$CACHE/debs" "$CACHE/pip"
# The pristine roots are rebuilt whenever this script changes.
STAMP=$(sha256sum "$0" | cut -c1-16)

# ------------------------------------------------------------------------------------------------
# Debian packages

apt_updated=
apt_update() {
  [ -z "$apt_updated" ] || return 0
  local try out
  for try in $(seq 1 60); do
    if out=$(apt-get update 2>&1); then
      apt_updated=1
      # apt-get update exits 0 even when it could not reach the archive; that shows as Err lines.
      if grep -q '^Err:' <<<"$out" && ! grep -q '^\(Hit\|Get\):' <<<"$out"; then
        unreachable "apt-get update could not reach the Debian archive: $(grep '^Err:' <<<"$out" | head -1)"
      fi
      return 0
    fi
    if grep -qi 'lock' <<<"$out"; then
      log "apt lists are locked by another process; retrying ($try/60)"
      sleep 5
      continue
    fi
    unreachable "apt-get update failed: $(tail -3 <<<"$out")"
  done
  die "apt lists stayed locked for 5 minutes"
}

# Makes sure CACHE/debs holds one .deb of each named package, downloading only what is missing.
fetch_debs() {
  local missing=() pkg out
  for pkg in "$@"; do
    compgen -G "$CACHE/debs/${pkg}_*.deb" >/dev/null || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_update
  log "downloading ${missing[*]}"
  # -o APT::Sandbox::User=root: the _apt user cannot write into a root-owned cache directory.
  if ! out=$(cd "$CACHE/debs" && apt-get -o APT::Sandbox::User=root download "${missing[@]}" 2>&1); then
    unreachable "apt-get download ${missing[*]} failed: $(tail -3 <<<"$out")"
  fi
}

deb_of() { compgen -G "$CACHE/debs/${1}_*.deb" | sort | tail -1; }

# ------------------------------------------------------------------------------------------------
# OpenRC

build_openrc_pristine() {
  local root=$1 s
  rm -rf "$root"
  mkdir -p "$root"
  for s in "${OPENRC_DEBS[@]}"; do dpkg-deb -x "$(deb_of "$s")" "$root"; done
  [ -x "$root/sbin/rc-update" ] || die "the openrc package has no /sbin/rc-update"
  # Debian adds the runlevels `off` and `recovery`; each runlevel is a column of `rc-update show`,
  # so keep Gentoo's stock set only: boot default nonetwork shutdown sysinit.
  rm -rf "$root/etc/runlevels/off" "$root/etc/runlevels/recovery"
  # Nothing has booted in a chroot: without a softlevel, `rc-update add svc` (no runlevel) would
  # go into sysinit instead of default as on a running box.
  mkdir -p "$root/run/openrc"
  echo default >"$root/run/openrc/softlevel"
  # Dummy init scripts of a small Gentoo box; net.* are netifrc-style links to net.lo.
  for s in cronie devfs dmesg fsck hostname killprocs local localmount mount-ro netmount root \
    sshd swap sysfs net.lo; do
    printf '#!/sbin/openrc-run\n# placeholder for the fieldbook acceptance tests\n' >"$root/etc/init.d/$s"
    chmod 755 "$root/etc/init.d/$s"
  done
  for s in net.eth0 net.eth1 net.extbr0 net.xenbr0; do ln -s net.lo "$root/etc/init.d/$s"; done
  # A Gentoo-like starting state, before the Xen migration: eth0 still brought up in default.
  rm -f "$root/etc/runlevels/nonetwork/local"
  local level svc
  while read -r level svc; do
    ln -s "/etc/init.d/$svc" "$root/etc/runlevels/$level/$svc"
  done <<'EOF'
sysinit devfs
sysinit dmesg
sysinit sysfs
boot fsck
boot hostname
boot localmount
boot root
boot swap
default cronie
default local
default net.eth0
default netmount
default sshd
nonetwork local
shutdown killprocs
shutdown mount-ro
shutdown savecache
EOF
  echo "$STAMP" >"$root/.fieldbook-stamp"
}

setup_openrc() {
  local base=$DIR/openrc
  local pristine=$DIR/cache/openrc-root
  if [ "$(cat "$pristine/.fieldbook-stamp" 2>/dev/null)" != "$STAMP" ]; then
    fetch_debs "${OPENRC_DEBS[@]}"
    log "building the OpenRC root"
    build_openrc_pristine "$pristine"
  fi
  rm -rf "$base"
  mkdir -p "$base/bin"
  cp -a "$pristine" "$base/root"
  rm -f "$base/root/.fieldbook-stamp"
  cat >"$base/bin/rc-update" <<EOF
#!/bin/sh
# The real OpenRC rc-update, run inside the acceptance root (made by scripts/acceptance-setup.sh).
exec chroot '$base/root' /sbin/rc-update "\$@"
EOF
  chmod 755 "$base/bin/rc-update"
  "$base/bin/rc-update" -V >/dev/null || die "the real rc-update does not run in $base/root"
}

# ------------------------------------------------------------------------------------------------
# Portage

find_python() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import venv, ensurepip' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  die "no python3 with the venv and ensurepip modules in PATH ($PATH)"
}

setup_venv() {
  local venv=$CACHE/venv
  # A virtualenv names its own path in every script: one moved with target/ is made anew.
  if [ "$(cat "$venv/.fieldbook-portage" 2>/dev/null)" = "$PORTAGE_VERSION $venv" ]; then return 0; fi
  local py out
  py=$(find_python)
  log "creating a virtualenv with portage==$PORTAGE_VERSION from PyPI"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  if ! out=$(PIP_CACHE_DIR=$CACHE/pip "$venv/bin/pip" install --disable-pip-version-check -q \
    "portage==$PORTAGE_VERSION" 2>&1); then
    unreachable "pip install portage==$PORTAGE_VERSION failed: $(tail -3 <<<"$out")"
  fi
  echo "$PORTAGE_VERSION $venv" >"$venv/.fieldbook-portage"
}

write_repo() {
  local repo=$1
  mkdir -p "$repo/metadata" "$repo/profiles/default" "$repo/licenses" \
    "$repo/app-misc/hello" "$repo/app-misc/greeter" "$repo/sys-apps/tinytool"
  printf 'masters =\nthin-manifests = true\nsign-manifests = false\ncache-formats =\n' \
    >"$repo/metadata/layout.conf"
  echo localrepo >"$repo/profiles/repo_name"
  printf 'app-misc\nsys-apps\n' >"$repo/profiles/categories"
  echo 8 >"$repo/profiles/default/eapi"
  cat >"$repo/profiles/default/make.defaults" <<'EOF'
ARCH="amd64"
ACCEPT_KEYWORDS="amd64"
CHOST="x86_64-pc-linux-gnu"
CFLAGS="-O2 -pipe"
CXXFLAGS="-O2 -pipe"
USE="ipv6"
USE_EXPAND="ELIBC KERNEL"
USE_EXPAND_UNPREFIXED="ARCH"
USE_EXPAND_IMPLICIT="ARCH ELIBC KERNEL"
USE_EXPAND_VALUES_ARCH="amd64"
USE_EXPAND_VALUES_ELIBC="glibc"
USE_EXPAND_VALUES_KERNEL="linux"
ELIBC="glibc"
KERNEL="linux"
EOF
  echo '*sys-apps/tinytool' >"$repo/profiles/default/packages"
  echo 'A placeholder licence text for the fieldbook acceptance ebuilds.' >"$repo/licenses/MIT"
  local pv pn cat desc extra
  while read -r cat pn pv desc; do
    extra=
    [ "$pn" = greeter ] && extra=$'IUSE="+color doc"\nRDEPEND="app-misc/hello"'
    cat >"$repo/$cat/$pn/$pn-$pv.ebuild" <<EOF
# A trivial package for the fieldbook acceptance tests: no sources, installs one script.
EAPI=8

DESCRIPTION="$desc"
HOMEPAGE="https://example.invalid/"
S="\${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64"
$extra

src_install() {
	dodir /usr/bin
	printf '#!/bin/sh\\necho "%s %s"\\n' "\${PN}" "\${PV}" > "\${ED}/usr/bin/\${PN}" || die
	fperms 0755 /usr/bin/\${PN}
	echo "\${PN} \${PV}" > "\${T}/README" || die
	insinto /usr/share/\${PN}
	doins "\${T}/README"
}
EOF
  done <<'EOF'
app-misc hello 1.0 Trivial hello package
app-misc hello 1.1 Trivial hello package
app-misc greeter 2.0 Greets through hello
sys-apps tinytool 0.5 A tool every system has
EOF
}

write_gentoo_env() {
  local base=$1 venv=$CACHE/venv
  cat >"$base/env.sh" <<EOF
# Environment for the real Portage in the acceptance tree; source it, or use the wrappers in bin/.
# The PyPI wheel takes its venv as the Gentoo Prefix; PORTAGE_OVERRIDE_EPREFIX makes the private
# tree the prefix instead (ROOT would add a second, build-host tree and " to ROOT" suffixes).
export PORTAGE_OVERRIDE_EPREFIX='$base/root'
unset ROOT SYSROOT PORTAGE_CONFIGROOT EMERGE_DEFAULT_OPTS_UNUSED
# etc-update would read the host's /etc/os-release, see Debian and look for *.dpkg-new files.
export ETC_UPDATE_OS_FAMILY=gentoo
# The host has no sandbox binary and no portage user.
export PORTAGE_USERNAME=root PORTAGE_GRPNAME=root
export PATH='$venv/bin:$base/tools/usr/bin':"\$PATH"
EOF
  local tool
  for tool in emerge quickpkg portageq etc-update ebuild; do
    cat >"$base/bin/$tool" <<EOF
#!/bin/sh
# The real Portage $tool against the acceptance tree (made by scripts/acceptance-setup.sh).
. '$base/env.sh'
exec '$venv/bin/$tool' "\$@"
EOF
    chmod 755 "$base/bin/$tool"
  done
}

build_gentoo_pristine() {
  local base=$1 venv=$CACHE/venv
  local root=$base/root repo=$base/repo
  rm -rf "$base"
  mkdir -p "$base/bin" "$base/tools"
  dpkg-deb -x "$(deb_of pax-utils)" "$base/tools"
  write_repo "$repo"
  mkdir -p "$root/etc/portage" "$root/var/lib/portage" "$root/var/db/pkg" "$root/var/tmp" \
    "$root/var/cache/distfiles" "$root/var/cache/binpkgs" "$root/var/log" "$root/tmp" \
    "$root/share/portage/config" "$root/usr/bin"
  # The wheel's global config, except repos.conf: its [gentoo] points at /var/db/repos/gentoo,
  # which does not exist here and makes every command complain.
  ln -s "$venv/share/portage/config/make.globals" "$root/share/portage/config/make.globals"
  ln -s "$venv/share/portage/config/sets" "$root/share/portage/config/sets"
  printf '[DEFAULT]\nmain-repo = localrepo\n' >"$root/share/portage/config/repos.conf"
  printf '[DEFAULT]\nmain-repo = localrepo\n\n[localrepo]\nlocation = %s\n' "$repo" \
    >"$root/etc/portage/repos.conf"
  ln -s "$repo/profiles/default" "$root/etc/portage/make.profile"
  cat >"$root/etc/portage/make.conf" <<EOF
# make.conf of the fieldbook acceptance tree.
CFLAGS="-O2 -pipe"
CXXFLAGS="-O2 -pipe"
# The wheel's make.globals has unprefixed paths (a real Prefix install substitutes EPREFIX when
# it is built); without these, builds would happen in the HOST's /var/tmp/portage.
DISTDIR="$root/var/cache/distfiles"
PKGDIR="$root/var/cache/binpkgs"
PORTAGE_TMPDIR="$root/var/tmp"
# No sandbox binary, no portage user and no namespaces to count on here.
FEATURES="-sandbox -usersandbox -userpriv -usersync -ipc-sandbox -network-sandbox -pid-sandbox -mount-sandbox -news"
PORTAGE_USERNAME="root"
PORTAGE_GRPNAME="root"
EOF
  echo app-misc/greeter >"$root/var/lib/portage/world"
  write_gentoo_env "$base"
  # The starting state: hello 1.0 installed (so 1.1 is an update), greeter in world, not installed.
  local out
  if ! out=$(NOCOLOR=true "$base/bin/emerge" --quiet-build=y --oneshot '=app-misc/hello-1.0' 2>&1); then
    die "merging hello-1.0 into the fresh tree failed: $out"
  fi
  [ -x "$root/usr/bin/hello" ] || die "emerge did not install $root/usr/bin/hello: $out"
  rm -rf "$root/var/tmp/portage" "$root/var/log/"*
  echo "$STAMP" >"$base/.fieldbook-stamp"
}

setup_gentoo() {
  local base=$DIR/gentoo
  local pristine=$CACHE/gentoo-pristine
  setup_venv
  # The vdb records absolute paths, so the tree is built where it is used, then copied aside.
  if [ "$(cat "$pristine/.fieldbook-stamp" 2>/dev/null)" != "$STAMP" ] \
    || [ "$(cat "$pristine/.fieldbook-dir" 2>/dev/null)" != "$base" ]; then
    fetch_debs "${TOOL_DEBS[@]}"
    log "building the Gentoo prefix tree"
    build_gentoo_pristine "$base"
    rm -rf "$pristine"
    cp -a "$base" "$pristine"
    echo "$base" >"$pristine/.fieldbook-dir"
  else
    rm -rf "$base"
    cp -a "$pristine" "$base"
    rm -f "$base/.fieldbook-dir"
  fi
  "$base/bin/emerge" --version >/dev/null || die "the real emerge does not run against $base"
}

case $WHAT in
  openrc) setup_openrc ;;
  gentoo) setup_gentoo ;;
  all) setup_openrc; setup_gentoo ;;
esac
log "ready in $DIR"
