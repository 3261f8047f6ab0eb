#!/usr/bin/env python3
"""ptyprobe - timings for bench/run that ptybytes.py does not take.

ptybytes.py (../shared/tools/) counts the bytes per interaction; this measures times under
the same kind of pseudo-terminal (80x24 unless --size), and prints one JSON object.

  ptyprobe.py startup --runs N --expect TEXT -- CMD...
      time from fork to the first screen showing TEXT (the first full frame), N runs.
  ptyprobe.py count -- CMD...
      run CMD to its exit, reading (not rendering) everything it writes: bytes and wall time.
  ptyprobe.py keydelay --start KEYS --ready TEXT --key K --effect TEXT --back K --samples N
                       [--done TEXT] -- CMD...
      send KEYS, wait for READY (the stream has started); then N times: send K and time until
      the screen shows EFFECT, send BACK and wait until it is gone. Also reports the bytes the
      program wrote and, with --done, the time until the screen showed DONE (the step ended).
      --samples 0 measures the stream alone: its bytes, time and (under time -v) memory.
  --quit K (repeatable) are sent one at a time at the end; default q.

Keys are literal text, except <Enter>, <Esc>, <Down>, <Up>, <PgDn>, <Space>, <Tab>.
Needs pyte (pip install pyte) except for `count`.
"""
import argparse, fcntl, json, os, select, signal, statistics, struct, sys, termios, time

KEYS = {"<Enter>": "\r", "<Esc>": "\x1b", "<Down>": "\x1b[B", "<Up>": "\x1b[A",
        "<PgDn>": "\x1b[6~", "<Space>": " ", "<Tab>": "\t"}


def keys(text):
    out = text
    for name, seq in KEYS.items():
        out = out.replace(name, seq)
    return out.encode()


class Pty:
    def __init__(self, cmd, size, term, render=True, env=()):
        self.cols, self.rows = size
        self.fd, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        e = {k: v for k, v in os.environ.items() if k not in ("LINES", "COLUMNS")}
        e["TERM"] = term
        e.update(kv.split("=", 1) for kv in env)
        self.t0 = time.monotonic()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.fd)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            try:
                os.execvpe(cmd[0], cmd, e)
            except OSError as err:
                os.write(2, f"ptyprobe: {cmd[0]}: {err}\r\n".encode())
            os._exit(127)
        os.close(slave)
        self.bytes = 0
        self.eof = False
        self.status = None
        self.screen = None
        if render:
            import pyte
            self.screen = pyte.Screen(self.cols, self.rows)
            self.stream = pyte.ByteStream(self.screen)

    def now(self):
        return time.monotonic() - self.t0

    def pump(self, timeout):
        if self.eof:
            time.sleep(max(0.0, timeout))
            return False
        if not select.select([self.fd], [], [], max(0.0, timeout))[0]:
            return None
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.bytes += len(data)
        if self.screen is not None:
            self.stream.feed(data)
        return True

    def text(self):
        return "\n".join(self.screen.display)

    def wait(self, cond, limit):
        end = time.monotonic() + limit
        while not cond():
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.pump(min(left, 0.05))
        return True

    def send(self, k):
        os.write(self.fd, keys(k))

    def finish(self, grace=3.0):
        end = time.monotonic() + grace
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = st
                return
            self.pump(0.05)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            time.sleep(0.2)
        _, self.status = os.waitpid(self.pid, 0)


def size(s):
    c, r = s.lower().split("x")
    return int(c), int(r)


def quit_keys(p, a):
    """Sends the --quit keys one at a time (leaving the app may take several screens' worth of
    back), so the program exits by itself and a wrapping `time -v` gets to write its figures."""
    for k in a.quit or ["q"]:
        p.send(k)
        p.pump(0.3)


def startup(a):
    times = []
    for _ in range(a.runs):
        p = Pty(a.command, a.size, a.term, env=a.env)
        ok = p.wait(lambda: a.expect in p.text(), a.timeout)
        t = p.now()
        if ok:
            times.append(round(t * 1000, 1))
        quit_keys(p, a)
        p.finish()
    return {"runs": len(times), "failed": a.runs - len(times), "ms": times,
            "median_ms": statistics.median(times) if times else None,
            "min_ms": min(times, default=None), "max_ms": max(times, default=None)}


def count(a):
    p = Pty(a.command, a.size, a.term, render=False, env=a.env)
    while p.pump(a.timeout) is not False:
        if p.now() > a.timeout:
            break
    p.finish()
    t = p.now()
    return {"bytes": p.bytes, "wall_s": round(t, 3),
            "exit": os.waitstatus_to_exitcode(p.status) if p.status is not None else None}


def keydelay(a):
    p = Pty(a.command, a.size, a.term, env=a.env)
    for k in a.start:
        p.send(k)
        p.pump(0.3)
    ready = p.wait(lambda: a.ready in p.text(), min(a.timeout, 30.0))
    delays, missed = [], 0
    if ready:
        for _ in range(a.samples):
            if a.done and a.done in p.text():
                break
            t = time.monotonic()
            p.send(a.key)
            if p.wait(lambda: a.effect in p.text(), 5.0):
                delays.append(round((time.monotonic() - t) * 1000, 1))
            else:
                missed += 1
            p.send(a.back)
            p.wait(lambda: a.effect not in p.text(), 5.0)
            p.wait(lambda: False, a.gap)
    done_s = None
    if a.done and ready:
        if p.wait(lambda: a.done in p.text(), a.timeout):
            done_s = round(p.now(), 3)
    screen = p.text()
    quit_keys(p, a)
    p.finish()
    return {"ready": ready, "samples": len(delays), "missed": missed, "ms": delays,
            "median_ms": statistics.median(delays) if delays else None,
            "max_ms": max(delays, default=None), "bytes": p.bytes, "done_s": done_s,
            "screen": screen}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["startup", "count", "keydelay"])
    ap.add_argument("--size", type=size, default=(80, 24))
    ap.add_argument("--term", default="xterm-256color")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--expect", default="")
    ap.add_argument("--quit", action="append", help="keys that quit, one per option (default q)")
    ap.add_argument("--start", action="append", default=[])
    ap.add_argument("--ready", default="")
    ap.add_argument("--key", default="?")
    ap.add_argument("--effect", default="")
    ap.add_argument("--back", default="<Esc>")
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--gap", type=float, default=0.2)
    ap.add_argument("--done", default="")
    ap.add_argument("command", nargs="+")
    a = ap.parse_args()
    res = {"startup": startup, "count": count, "keydelay": keydelay}[a.mode](a)
    res["command"] = a.command
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
