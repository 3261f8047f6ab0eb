#!/bin/sh
# Builds the "box" of the --host walk (tests/remote_walk.rs): a throwaway root that holds
# nothing but busybox (sh and its applets, with the libraries ldd lists), the recording stubs
# of tests/fixtures/remote-walk/stubs for every tool KIND's runbook calls, and the files its
# edit steps change (tests/fixtures/edits/root, tests/fixtures/tools/root). fieldbook reaches
# it as `--host root@127.0.0.1 --root BOX`: a chroot on the host.
#
# Usage: tests/support/walk-box.sh BOX clearos|xen|gentoo   (as root: mknod /dev/null)
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BOX clearos|xen|gentoo" >&2; exit 2; }
BOX=$1 KIND=$2
REPO=$(cd "$(dirname "$0")/../.." && pwd)
WALK=$REPO/tests/fixtures/remote-walk
EDITS=$REPO/tests/fixtures/edits/root
BUSYBOX=$(command -v busybox) || { echo "walk-box: no busybox" >&2; exit 1; }
mkdir -p "$BOX"
cd "$BOX"
mkdir -p bin sbin usr/bin usr/sbin etc tmp root dev proc/sys var/log var/lib/walk var/run \
  usr/lib/walk usr/share/walk/practice
chmod 1777 tmp

# busybox and the libraries it links.
cp "$BUSYBOX" bin/busybox
for lib in $(ldd "$BUSYBOX" | grep -o '/[^ ]*'); do
  mkdir -p ".$(dirname "$lib")"
  cp "$lib" ".$lib"
done
mknod -m 666 dev/null c 1 3

# The stubs, at the paths the real tools have on KIND's distribution.
case $KIND in
  clearos) stubs="usr/bin/yum bin/rpm usr/bin/wget sbin/sysctl sbin/service sbin/chkconfig
    usr/bin/fail2ban-client usr/bin/snmpwalk usr/bin/updatedb sbin/telinit etc/init.d/snort" ;;
  xen) stubs="usr/bin/emerge sbin/rc-update sbin/brctl sbin/ip bin/ping" ;;
  gentoo) stubs="usr/bin/emerge usr/bin/quickpkg usr/sbin/revdep-rebuild usr/sbin/python-updater
    usr/sbin/perl-cleaner usr/sbin/etc-update usr/bin/gcc-config usr/sbin/env-update" ;;
  *) echo "walk-box: unknown kind $KIND" >&2; exit 2 ;;
esac
cp "$WALK/lib.sh" usr/lib/walk/lib.sh
for s in $stubs; do
  mkdir -p "$(dirname "$s")"
  name=${s##*/}
  if [ "$name" = chkconfig ]; then
    # The chkconfig stub of the other tests (tests/stubs), byte-exact with the real 1.3.30.2,
    # keeping its changes in the box.
    { echo '#!/bin/sh'
      echo 'STUB_STATE_DIR=/var/lib/walk'
      echo 'STUB_CHKCONFIG_LIST=/usr/share/walk/chkconfig-clearos.txt'
      sed -e '1d' -e 's|^\. "$(dirname "$0")/_record.sh"$|. /usr/lib/walk/lib.sh|' "$REPO/tests/stubs/chkconfig"
    } >"$s"
  else
    cp "$WALK/stubs/$name" "$s"
  fi
  chmod 755 "$s"
done
cp "$REPO/tests/stubs/data/chkconfig-clearos.txt" usr/share/walk/
cp "$REPO"/assets/practice/*.txt usr/share/walk/practice/

# busybox's applets as /bin links, except where a stub stands for the real tool.
for a in $("$BUSYBOX" --list); do
  case " $(echo $stubs | tr '\n' ' ') " in *"/$a "*) continue ;; esac
  [ -e "bin/$a" ] || ln -s busybox "bin/$a"
done

put() { # put FIXTURE-RELATIVE-PATH MODE [FROM-ROOT]
  from=${3:-$EDITS}
  mkdir -p "$(dirname "$1")"
  cp "$from/$1" "$1"
  chmod "$2" "$1"
}
case $KIND in
  clearos)
    echo "ClearOS Enterprise release 5.2 (Final)" >etc/clearos-release
    put etc/snmp/snmpd.conf 600
    put etc/rc.d/rc.firewall.local 750
    put etc/cron.daily/mlocate.cron 755
    put etc/inittab 644
    put usr/sbin/snortreport.sh 755
    cp "$EDITS/guest/etc/securetty" etc/securetty
    cp -R "$REPO/tests/fixtures/tools/root/var/lib" var/
    mkdir -p proc/xen # a Xen guest: the securetty step applies
    echo net-snmp >var/lib/walk/installed # its install step's check says done
    ;;
  xen)
    echo "Gentoo Base System release 1.12.13" >etc/gentoo-release
    put etc/portage/package.keywords 644
    put etc/portage/make.conf 640
    put boot/grub/grub.conf 600
    put etc/conf.d/net 644
    put etc/conf.d/rc 644
    put etc/init.d/net.lo 755
    put etc/xen/xend-config.sxp 644
    put etc/xen/router.cfg 644
    put guest/etc/inittab 644
    cp "$EDITS/guest/etc/securetty" guest/etc/securetty
    printf '# Global OpenRC configuration settings\n#rc_hotplug="*"\nrc_logger="YES"\n' >etc/rc.conf
    for s in sshd netmount local; do printf '#!/sbin/openrc-run\n' >etc/init.d/$s; chmod 755 etc/init.d/$s; done
    ln -s net.lo etc/init.d/net.eth0
    ln -s net.lo etc/init.d/net.eth1
    for l in boot default nonetwork shutdown sysinit; do mkdir -p etc/runlevels/$l; done
    for s in sshd netmount local net.eth0 net.eth1; do ln -s /etc/init.d/$s etc/runlevels/default/$s; done
    # The bridges as the kernel shows them once the network is restarted (a manual step).
    mkdir -p sys/class/net/eth0 sys/class/net/eth1 sys/class/net/extbr0/bridge \
      sys/class/net/extbr0/brif/eth0 sys/class/net/xenbr0/bridge sys/class/net/xenbr0/brif/eth1
    ;;
  gentoo)
    echo "Gentoo Base System release 1.12.13" >etc/gentoo-release
    put etc/portage/make.conf 640
    mkdir -p etc/env.d/gcc usr/lib/walk/pkg etc/ssh
    for v in 4.1.2 4.3.4; do
      printf 'CTARGET="x86_64-pc-linux-gnu"\nGCC_PATH="/usr/x86_64-pc-linux-gnu/gcc-bin/%s"\n' $v \
        >etc/env.d/gcc/x86_64-pc-linux-gnu-$v
    done
    echo CURRENT=x86_64-pc-linux-gnu-4.1.2 >etc/env.d/gcc/config-x86_64-pc-linux-gnu
    cp "$WALK"/pkg/* usr/lib/walk/pkg/
    printf 'Port 22\nPermitRootLogin yes\n' >etc/ssh/sshd_config
    printf 'Port 22\nPermitRootLogin prohibit-password\n' >etc/ssh/._cfg0000_sshd_config
    ;;
esac
