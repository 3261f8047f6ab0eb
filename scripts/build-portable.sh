#!/usr/bin/env bash
# Builds target/portable/fieldbook: a release binary that needs at most glibc 2.17 (Linux >= 3.2),
# so it runs on ClearOS 7 / CentOS 7 and later. Boxes older than that (ClearOS 5/6, an old
# Gentoo) are driven with `fieldbook --host` instead (README "Old boxes").
#
# How: cargo-zigbuild links against glibc 2.17 symbol versions using Zig as the linker. Both
# come from PyPI (`ziglang`, `cargo-zigbuild`) into a virtualenv under target/portable-venv, so
# nothing is installed on the host; the stable toolchain already here does the compiling.
#
# The script then checks what it built and fails unless:
#   - the highest GLIBC_ symbol version the binary needs is <= 2.17 (objdump -T or readelf);
#   - the binary runs `fieldbook list` and `--version --verbose` reports the floor.
#
# Usage: scripts/build-portable.sh
# Exit codes: 0 built and checked; 1 build or check failed; 75 PyPI could not be reached.
set -euo pipefail
cd "$(dirname "$0")/.."

FLOOR=2.17
TARGET=x86_64-unknown-linux-gnu
VENV=target/portable-venv
OUT=target/portable/fieldbook
EX_UNREACHABLE=75

die() { echo "build-portable: $*" >&2; exit 1; }
log() { echo "build-portable: $*" >&2; }

for tool in python3 cargo rustup; do
  command -v "$tool" >/dev/null || die "'$tool' not found in PATH ($PATH)"
done

if [ ! -e "$VENV/.ready" ]; then
  log "virtualenv with ziglang and cargo-zigbuild in $VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed"
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check ziglang cargo-zigbuild; then
    echo "build-portable: pip could not install ziglang/cargo-zigbuild (PyPI unreachable?)" >&2
    exit "$EX_UNREACHABLE"
  fi
  touch "$VENV/.ready"
fi
[ -x "$VENV/bin/cargo-zigbuild" ] || die "$VENV/bin/cargo-zigbuild missing after install"

grep -qx "$TARGET" <<<"$(rustup target list --installed 2>/dev/null)" || rustup target add "$TARGET" >/dev/null

# The floor is printed by `fieldbook --version --verbose`.
export FIELDBOOK_GLIBC_FLOOR=$FLOOR
# cargo-zigbuild finds zig through the `ziglang` module of the venv's python.
export PATH="$PWD/$VENV/bin:$PATH"
log "cargo zigbuild --release --target $TARGET.$FLOOR"
cargo zigbuild --release --target "$TARGET.$FLOOR" --target-dir target/portable-build

mkdir -p "$(dirname "$OUT")"
cp "target/portable-build/$TARGET/release/fieldbook" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"

# The highest GLIBC_x.y the binary asks for.
if command -v objdump >/dev/null; then
  symbols=$(objdump -T "$OUT")
elif command -v readelf >/dev/null; then
  symbols=$(readelf -W --dyn-syms -V "$OUT")
else
  die "neither objdump nor readelf found: cannot check the glibc floor"
fi
highest=$(printf '%s\n' "$symbols" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
[ -n "$highest" ] || die "no GLIBC_ symbol versions found in $OUT (not a glibc binary?)"
if [ "$(printf '%s\n%s\n' "$highest" "$FLOOR" | sort -V | tail -1)" != "$FLOOR" ]; then
  die "$OUT needs GLIBC_$highest, more than the floor $FLOOR"
fi
log "highest glibc symbol version needed: GLIBC_$highest (floor $FLOOR)"

"./$OUT" list >/dev/null || die "$OUT does not run 'list'"
# Read the whole report before matching: `| grep -q` under pipefail would fail whenever grep
# left before the binary had finished writing.
report=$("./$OUT" --version --verbose 2>&1) || die "$OUT --version --verbose failed: $report"
grep -qx "glibc floor: $FLOOR" <<<"$report" \
  || die "$OUT --version --verbose does not report the glibc floor $FLOOR: $report"
log "ok: $OUT"
