# Sourced by stubs that replay a practice transcript (assets/practice/KEY.txt) as their output,
# so stub output and practice mode stay the same realistic text. `play KEY` prints the body
# (directive lines starting with "%% " are skipped) and sets STUB_CODE from its "%% exit N".
STUB_ASSETS="$(cd "$(dirname "$0")/../../assets/practice" && pwd)"
play() {
  f="$STUB_ASSETS/$1.txt"
  STUB_CODE=$(sed -n 's/^%% exit \([0-9]*\)$/\1/p' "$f" | head -n 1)
  STUB_CODE=${STUB_CODE:-0}
  grep -v '^%% ' "$f"
}
