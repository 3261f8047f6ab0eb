#!/usr/bin/env python3
"""Turns bench/run's raw results (target/bench/*.json, *.txt) into bench/RESULTS.md."""
import json, os, re, sys

out = sys.argv[1] if len(sys.argv) > 1 else "target/bench"

# ../shared/reference/perf-baseline.md, 80x24, LC_ALL=C.UTF-8.
WHIPTAIL = {"xterm-256color": {"start": 3512, "down1": 36, "down10": 330, "space": 16, "pgdn": 305},
            "vt100": {"start": 1500, "down1": 25, "down10": 310, "space": 16, "pgdn": 369}}
DIALOG = {"xterm-256color": {"start": 5768, "down1": 270, "down10": 2520, "space": 50, "pgdn": 1106},
          "vt100": {"start": 3157, "down1": 96, "down10": 995, "space": 28, "pgdn": None}}


def load(name):
    p = os.path.join(out, name)
    if not os.path.exists(p):
        return None
    try:
        with open(p) as f:
            return json.load(f)
    except ValueError:  # a run still going, or one that was cut short
        return None


def text(name):
    p = os.path.join(out, name)
    return open(p).read() if os.path.exists(p) else None


def gnu_time(name):
    """(wall seconds, max RSS KiB, exit status) from `time -v` output."""
    t = text(name)
    if not t:
        return None
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
    status = re.search(r"Exit status: (\d+)", t)
    user = re.search(r"User time \(seconds\): ([\d.]+)", t)
    system = re.search(r"System time \(seconds\): ([\d.]+)", t)
    cpu = float(user.group(1)) + float(system.group(1)) if user and system else None
    secs = None
    if wall:
        h, m, s = wall.groups()
        secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
    return {"wall": secs, "rss": int(rss.group(1)) if rss else None,
            "exit": int(status.group(1)) if status else None, "cpu": cpu}


def phases(res):
    return {p["name"]: p for p in res["phases"]} if res else {}


def cell(v):
    return "–" if v is None else str(v)


machine = {}
if os.path.exists(os.path.join(out, "machine.txt")):
    for line in open(os.path.join(out, "machine.txt")):
        k, _, v = line.rstrip("\n").partition("=")
        machine[k] = v

print("# Benchmark results")
print()
print("Written by `bench/run` (see README, \"Benchmarks\"); raw figures in `target/bench/`.")
print("Timings are from a shared machine: read them as ratios and orders of magnitude.")
print()
print(f"- Date: {machine.get('date', '?')}; commit {machine.get('commit', '?')}; {machine.get('rustc', '')}")
print(f"- Machine: {machine.get('nproc', '?')} CPUs, {machine.get('cpu', '?')}; load average "
      f"at start {machine.get('load', '?')}")
print()

# ---------------------------------------------------------------------------------------------
print("## Bytes per interaction (80x24, LC_ALL=C.UTF-8)")
print()
print("`python3 ../shared/tools/ptybytes.py --scenario bench/scenarios/{runbook,services}.scn`, "
      "TERM=vt100 with `--no-color` (ASCII is automatic there). The services screen reads the "
      "stub `chkconfig --list` (`tests/stubs/chkconfig`, the same 56 services as the "
      "whiptail/dialog baseline). References: `../shared/reference/perf-baseline.md`.")
print()
# (label, scenario, our phase, baseline phase, our divisor[, baseline divisor]): a page holds
# 20 services here (80x24, header row) against the baseline's 14-row list.
rows = [("first frame (app start, runbook screen)", "runbook", "start", "start", 1),
        ("services table drawn (cf. whiptail's first screen)", "services", "table", "start", 1),
        ("1 x Down (services)", "services", "down1", "down1", 1),
        ("10 x Down, per Down (services)", "services", "down10", "down10", 10),
        ("Space: toggle (services)", "services", "space", "space", 1),
        ("Page Down (services)", "services", "pgdn", "pgdn", 1),
        ("Page Down, per list row (services: 20 rows, baseline: 14)", "services", "pgdn", "pgdn", 20, 14),
        ("1 x Down (runbook steps)", "runbook", "down1", "down1", 1),
        ("10 x Down, per Down (runbook steps)", "runbook", "down10", "down10", 10),
        ("Page Down (runbook steps)", "runbook", "pgdn", "pgdn", 1),
        ("open a step (Enter)", "runbook", "open", None, 1),
        ("Output following a build, per new line (200 lines, 20 a second)", "trickle", "trickle", None, 200)]
terms = ["xterm-256color", "vt100"]
res = {(s, t): phases(load(f"{s}-{t}.json")) for s in ("runbook", "services", "trickle") for t in terms}
print("| phase (bytes) | fieldbook xterm-256color | whiptail xterm-256color | dialog xterm-256color "
      "| fieldbook vt100 | whiptail vt100 | dialog vt100 |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label, scen, ph, ref, keys, *base in rows:
    base_keys = base[0] if base else keys
    cells = []
    for t in terms:
        p = res[(scen, t)].get(ph)
        v = None if p is None else (round(p["bytes"] / keys, 1) if keys > 1 else p["bytes"])
        w = WHIPTAIL[t].get(ref) if ref else None
        d = DIALOG[t].get(ref) if ref else None
        if base_keys > 1:
            w = None if w is None else round(w / base_keys, 1)
            d = None if d is None else round(d / base_keys, 1)
        cells += [cell(v), cell(w), cell(d)]
    print(f"| {label} | " + " | ".join(cells) + " |")
print()
print("Targets: every figure at or below whiptail's; one move or toggle at most 16 bytes; the "
      "first screen at vt100 at most 1500 bytes.")
print()
print("First frame of each built-in runbook (`fieldbook run ID`, bytes until quiet):")
print()
print("| runbook | xterm-256color | vt100 |")
print("|---|---:|---:|")
for rb in ("clearos-install", "xen4-migration", "gentoo-world-update"):
    got = []
    for t in terms:
        p = phases(load(f"first-{rb}-{t}.json")).get("start")
        got.append(cell(None if p is None else p["bytes"]))
    print(f"| {rb} | " + " | ".join(got) + " |")
for t in terms:
    for s in ("runbook", "services", "trickle"):
        r = load(f"{s}-{t}.json")
        if r and r.get("warnings"):
            print(f"\nWarnings ({s}, {t}): " + "; ".join(r["warnings"]))
        if r is None:
            print(f"\n({s}, {t}): not measured.")
print()

# ---------------------------------------------------------------------------------------------
print("## Streaming a million lines")
print()


def median_time(stem):
    """The median wall, CPU and RSS over the runs `stem.N.txt` (each figure on its own)."""
    runs = [r for r in (gnu_time(f"{stem}.{i}.txt") for i in range(1, 10)) if r]
    if not runs:
        return None

    def med(key):
        vals = sorted(r[key] for r in runs if r.get(key) is not None)
        return vals[len(vals) // 2] if vals else None
    return {"wall": med("wall"), "cpu": med("cpu"), "rss": med("rss"), "exit": runs[0]["exit"],
            "runs": len(runs)}


child = median_time("stream-child")
null = median_time("stream-exec-null")
pty = gnu_time("stream-exec-pty.txt")
ptyj = load("stream-exec-pty.json")
print("The child: `seq -f 'line %.0f of the flood, as fast as the child can print' 1 1000000` "
      "(59 MB), as step `flood` of `bench/runbooks/bench.toml`. Wall time and peak RSS from "
      "`/usr/bin/time -v`.")
print()
print("CPU is user + system time of the process and its children (the child included), the "
      "steadier figure on a shared machine.")
print()
print("The child alone and `exec` to /dev/null are the medians of "
      f"{child['runs'] if child else 0} runs taken in turns.")
print()
print("| run | wall, s | wall ratio to the child alone | CPU, s | CPU ratio | peak RSS, MiB | bytes to the terminal |")
print("|---|---:|---:|---:|---:|---:|---:|")


def ratio(a, b):
    return None if not a or not b or not a.get("wall") or not b.get("wall") else round(a["wall"] / b["wall"], 2)


def cpu_ratio(a, b):
    return None if not a or not b or not a.get("cpu") or not b.get("cpu") else round(a["cpu"] / b["cpu"], 1)


def cpu(a):
    return None if not a or a.get("cpu") is None else round(a["cpu"], 2)


def mib(a):
    return None if not a or a.get("rss") is None else round(a["rss"] / 1024, 1)


if child:
    print(f"| child alone, to /dev/null | {child['wall']:.2f} | 1 | {cpu(child)} | 1 | {mib(child)} | – |")
if null:
    print(f"| `fieldbook exec bench flood > /dev/null` | {null['wall']:.2f} | {cell(ratio(null, child))} "
          f"| {cpu(null)} | {cell(cpu_ratio(null, child))} | {mib(null)} | – |")
if pty:
    print(f"| `fieldbook exec bench flood` on a pty | {pty['wall']:.2f} | {cell(ratio(pty, child))} "
          f"| {cpu(pty)} | {cell(cpu_ratio(pty, child))} | {mib(pty)} | {ptyj['bytes'] if ptyj else '–'} |")
for mode in ("default", "low-bandwidth"):
    g = gnu_time(f"stream-tui-{mode}-alone.txt")
    j = load(f"stream-tui-{mode}-alone.json")
    if g and j:
        flag = "" if mode == "default" else " --low-bandwidth"
        print(f"| the app{flag}, Output screen following the step to its end | {g['wall']:.2f} "
              f"(done at {cell(j.get('done_s'))}) | {cell(ratio(g, child))} | {cpu(g)} "
              f"| {cell(cpu_ratio(g, child))} | {mib(g)} | {j['bytes']} |")
print()
print("Targets: `exec` to /dev/null at most 2x the child alone, wall and CPU; the app following "
      "the step at most 3x its CPU; peak RSS under 20 MiB.")
print()
print("The app rows are whole sessions: start, open the step, run it, follow the output to the "
      "end, quit; the wall time includes the probe's pauses between keys (about 1.5 s).")
print()
for mode in ("default", "low-bandwidth"):
    j = load(f"stream-tui-{mode}-keys.json")
    if not j:
        print(f"- The app ({mode}): not measured.")
        continue
    if not j.get("ready"):
        print(f"- The app ({mode}): the stream never showed on screen, so no key delay was measured. "
              "Last screen:\n\n```\n" + j.get("screen", "") + "\n```\n")
        continue
    print(f"- Keypress to effect while streaming ({mode}; `?` until the help shows, Esc back): "
          f"median {cell(None if j['median_ms'] is None else round(j['median_ms'], 1))} ms, max {cell(j['max_ms'])} ms over {j['samples']} keys "
          f"({j['missed']} missed). Target: under 100 ms.")
print()

# ---------------------------------------------------------------------------------------------
print("## Start-up")
print()
s = load("startup.json")
f = load("startup-floor.json")
w = load("startup-whiptail.json")
g = gnu_time("startup-time.txt")
print("`python3 bench/ptyprobe.py startup`: from fork until the rendered screen (pyte) shows the "
      "runbook list, all built-in runbooks loaded. The floor is the probe itself timing "
      "`sh -c 'printf ready; read x'`.")
print()
print("| program | runs | median, ms | min–max, ms | ratio to the floor |")
print("|---|---:|---:|---:|---:|")
for name, r in (("fieldbook (runbook list)", s), ("whiptail --yesno", w), ("floor: sh printf", f)):
    if r and r.get("median_ms") is not None:
        rat = round(r["median_ms"] / f["median_ms"], 1) if f and f.get("median_ms") else None
        print(f"| {name} | {r['runs']} | {r['median_ms']} | {r['min_ms']}–{r['max_ms']} | {cell(rat)} |")
if s and w and s.get("median_ms") and w.get("median_ms"):
    print(f"\nfieldbook / whiptail: {round(s['median_ms'] / w['median_ms'], 2)} (median to median).")
if g:
    print(f"\nPeak RSS to the first frame and quit (`/usr/bin/time -v`): {mib(g)} MiB. "
          "Targets: under 50 ms and under 15 MB.")
print()

# ---------------------------------------------------------------------------------------------
print("## Crash safety (kill -9 across step transitions)")
print()
c = text("crash.txt")
if c:
    keep = [l for l in c.splitlines() if re.search(r"transition|unloadable|lost|iteration|kill|test result", l)]
    print("`scripts/progress-stress.sh N` (the progress store's own kill -9 driver, "
          "`tests/progress_crash.rs`, in release mode):")
    print()
    print("```")
    print("\n".join(keep[-12:]) if keep else c[-2000:])
    print("```")
else:
    print("Not run (`bench/run crash [N]`).")
