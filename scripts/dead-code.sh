#!/usr/bin/env bash
# Dead code the compiler cannot see: the library's modules are `pub` (the integration tests
# use them), so an item nothing calls is not reported. This copies src/ to a scratch tree,
# makes every item `pub(crate)` there (only `cli::main`, which main.rs calls, stays `pub`),
# and lets `cargo check --lib` name what nothing in the product uses.
#
#   scripts/dead-code.sh          list them
#   scripts/dead-code.sh --check  exit 1 when one is not in scripts/dead-code.allow (items
#                                 the product does not use but the integration tests do)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=target/dead-code
rm -rf "$scratch/src"
mkdir -p "$scratch"
cp -r Cargo.toml Cargo.lock src assets "$scratch/"
find "$scratch/src" -name '*.rs' ! -name lib.rs ! -name main.rs -exec sed -i -E \
  -e 's/^(\s*)pub (fn|struct|enum|const|static|type|trait|mod|use|unsafe fn)\b/\1pub(crate) \2/' \
  -e 's/^(\s*)pub ([a-z_]+:)/\1pub(crate) \2/' {} +
sed -i -E 's/^pub\(crate\) fn main\(\)/pub fn main()/' "$scratch/src/cli/mod.rs"
out=$(cd "$scratch" && CARGO_TARGET_DIR=target cargo check --lib --quiet --message-format short 2>&1 || true)
# "FILE: KIND `NAME` is never used", without line numbers (so the allow list survives edits).
found=$(grep -E 'never (used|constructed|read)' <<<"$out" | sed -E 's/:[0-9]+:[0-9]+: warning: /: /' | sort || true)
if [ "${1:-}" != --check ]; then
  printf '%s\n' "${found:-no dead code}"
  exit 0
fi
new=$(grep -vFf <(grep -v '^#' scripts/dead-code.allow | sed '/^$/d') <<<"$found" || true)
if [ -n "$new" ]; then
  echo "dead code (nothing in the product uses it; delete it, gate it with #[cfg(test)], or" >&2
  echo "list it in scripts/dead-code.allow when the integration tests use it):" >&2
  printf '%s\n' "$new" >&2
  exit 1
fi
echo "dead code: none beyond scripts/dead-code.allow"
