# Sourced by every stub: appends this invocation's argv to $STUB_LOG when it is set.
# One record per invocation: the program's base name, then each argument, separated by the
# ASCII unit separator (0x1F); the record ends with the record separator (0x1E) and a newline.
# Arguments are written byte for byte, so a test can assert exactly what argv a step ran.
if [ -n "${STUB_LOG:-}" ]; then
  {
    printf '%s' "$(basename "$0")"
    for a in "$@"; do printf '\037%s' "$a"; done
    printf '\036\n'
  } >> "$STUB_LOG"
fi
