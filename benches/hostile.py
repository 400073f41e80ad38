#!/usr/bin/env python3
"""Hostile-input bench for the emulator (issue 17: CSV width, zip bombs, slow bodies).

    cargo build && python3 benches/hostile.py [--bin target/debug/dialtone] [--quick]

Starts `dialtone emulate --spec rome` (a clean emulator) and runs each attack while a
legitimate client sends a small authenticated GET every 20 ms. For each attack it prints the
attack's own figures (time, status, peak RSS of the emulator from /proc) and the slowest of
those GETs. It measures and prints; it exits 1 only when an attack is not refused as the
docs say (see docs/emulator.md, "Robustness"), or the emulator dies.

Loopback only. The figures depend on the machine and its load; compare runs made together.
"""

import argparse
import base64
import io
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile

AUTH = "Basic " + base64.b64encode(b"rome-rw:rome-rw-dialtone").decode()
HRS = "/ROME/webresources/hrs"


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Sampler:
    """Peak RSS of the emulator, sampled every 5 ms, and the slowest legitimate GET."""

    def __init__(self, pid, base):
        self.pid, self.base = pid, base
        self.peak, self.slowest, self.gets, self.get_errors = 0.0, 0.0, 0, 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._rss), threading.Thread(target=self._get)]

    def _rss(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.005)

    def _get(self):
        while not self.stop.is_set():
            req = urllib.request.Request(self.base + HRS + "/download/route",
                                         headers={"Authorization": AUTH})
            t = time.monotonic()
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
            except Exception:
                self.get_errors += 1
            self.slowest = max(self.slowest, time.monotonic() - t)
            self.gets += 1
            time.sleep(0.02)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()

    def line(self):
        return (f"peak RSS {self.peak:.0f} MiB; {self.gets} legitimate GETs, slowest "
                f"{self.slowest * 1000:.0f} ms, {self.get_errors} failed")


def post(base, path, body, ctype):
    req = urllib.request.Request(base + HRS + path, data=body, method="POST",
                                 headers={"Authorization": AUTH, "Content-Type": ctype})
    t = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            status = r.status
            r.read()
    except urllib.error.HTTPError as e:
        status = e.code
        text = e.read()[:300].decode(errors="replace")
        if status not in (400, 413) or "-v" in sys.argv:
            print(f"  {status}: {text}")
    return status, time.monotonic() - t


def csv_wide(cols):
    header = ",".join(f"c{i}" for i in range(cols))
    row = ",".join("1" for _ in range(cols))
    return (header + "\n" + row + "\n").encode()


def route(i):
    return (f"<route><tid>{10_000 + i}</tid><digitMatch>{7_000_000 + i}</digitMatch>"
            f"<alias>a{i}</alias>"
            f"<policy>top_down</policy><trunkIds>101</trunkIds><minLen>10</minLen>"
            f"<maxLen>11</maxLen></route>")


def bomb_of_rows(target_bytes):
    """A zip of one XML member of valid routes, about `target_bytes` inflated."""
    buf = io.BytesIO()
    # 100 rows (16 KB) repeated: within deflate's 32 KiB window, so the ratio is high.
    chunk = "".join(route(i) for i in range(100)).encode()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("routes.xml", "w", force_zip64=True) as m:
            m.write(b"<routeList>")
            written = 0
            while written < target_bytes:
                m.write(chunk)
                written += len(chunk)
            m.write(b"</routeList>")
    return buf.getvalue()


def bomb_of_blanks(target_bytes, member="routes.xml"):
    """A zip of one member of blanks in a list: the highest ratio deflate gives (~1000:1)."""
    head, tail = (b"<routeList>", b"</routeList>") if member.endswith(".xml") else (b"[", b"]")
    buf = io.BytesIO()
    block = b" " * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open(member, "w", force_zip64=True) as m:
            m.write(head)
            for _ in range(target_bytes >> 20):
                m.write(block)
            m.write(tail)
    return buf.getvalue()


def concurrently(n, f):
    out = [None] * n

    def run(i):
        out[i] = f()

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def slow_bodies(host, port, n, secs, spread):
    """`n` connections that each declare a 1 MB body and send one byte a second, from
    `spread` addresses 127.0.0.2 and up: other client addresses than the legitimate one."""
    socks = []
    for i in range(n):
        try:
            src = (f"127.0.0.{2 + i % spread}", 0)
            s = socket.create_connection((host, port), timeout=5, source_address=src)
            s.sendall(b"PUT /_dialtone/rome/collections/route HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
            socks.append(s)
        except OSError:
            break
    opened = len(socks)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for s in list(socks):
            try:
                s.send(b" ")
            except OSError:
                socks.remove(s)
        time.sleep(1)
    alive = len(socks)
    for s in socks:
        s.close()
    return opened, alive


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/debug/dialtone")
    ap.add_argument("--quick", action="store_true", help="smaller attacks, a shorter trickle")
    ap.add_argument("--spread", type=int, default=1,
                    help="slow bodies come from this many client addresses (default 1)")
    ap.add_argument("--only", choices=["csv", "zip", "slow"],
                    help="one attack only (default: all three, in that order)")
    a = ap.parse_args()

    emu = subprocess.Popen([a.bin, "emulate", "--spec", "rome"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    base = emu.stdout.readline().strip().rstrip("/")
    host, port = base.split("//")[1].split(":")
    port = int(port.split("/")[0])
    print(f"emulator {base}, pid {emu.pid}, idle RSS {rss_mib(emu.pid):.0f} MiB")
    bad = []

    def expect(what, got, want):
        if got not in want:
            bad.append(f"{what}: {got}, expected one of {want}")

    try:
        for cols in ([] if a.only not in (None, "csv") else
                     [80_000] if a.quick else [80_000, 1_000_000]):
            body = csv_wide(cols)
            with Sampler(emu.pid, base) as s:
                status, secs = post(base, "/update/routeCSV?format=csv", body, "text/csv")
            print(f"CSV {cols} columns ({len(body) / 1e6:.1f} MB): {status} in "
                  f"{secs * 1000:.0f} ms; {s.line()}")
            expect(f"CSV {cols}", status, (400,))
        if a.only in (None, "csv"):
            body = csv_wide(1_000_000 if not a.quick else 80_000)
            with Sampler(emu.pid, base) as s:
                two = concurrently(2, lambda: post(base, "/update/routeCSV?format=csv", body,
                                                   "text/csv"))
            print(f"two wide CSV uploads at once: {[st for st, _ in two]} in "
                  f"{max(t for _, t in two) * 1000:.0f} ms; {s.line()}")

        gib = 1 << 30
        for name, zipped in [] if a.only not in (None, "zip") else [
            ("rows", bomb_of_rows(gib // 4 if a.quick else int(1.2 * gib))),
            ("XML blanks", bomb_of_blanks(gib // 2 if a.quick else 5 * gib)),
            ("JSON blanks", bomb_of_blanks(gib // 2 if a.quick else 5 * gib, "routes.json")),
        ]:
            with Sampler(emu.pid, base) as s:
                status, secs = post(base, "/replaceLarge/route", zipped, "application/zip")
            time.sleep(3)
            print(f"zip bomb of {name} ({len(zipped) / 1e6:.1f} MB): {status} in {secs:.1f} s; "
                  f"{s.line()}; RSS 3 s after {rss_mib(emu.pid):.0f} MiB")
            # Refused: over the items' memory budget (413), or a token or member over
            # its limit (ROME's 400 or 413). A quick run's rows may fit (200).
            expect(f"zip of {name}", status, (200, 413) if a.quick and name == "rows"
                   else (400, 413))
            if s.peak >= 1024:
                bad.append(f"zip of {name}: peak RSS {s.peak:.0f} MiB, over 1 GiB")
            with Sampler(emu.pid, base) as s:
                four = concurrently(4, lambda: post(base, "/replaceLarge/route", zipped,
                                                    "application/zip"))
            time.sleep(3)
            print(f"four at once: {[st for st, _ in four]} in "
                  f"{max(t for _, t in four):.1f} s; {s.line()}; RSS 3 s after "
                  f"{rss_mib(emu.pid):.0f} MiB")
            if s.peak >= 1024:
                bad.append(f"four zips of {name}: peak RSS {s.peak:.0f} MiB, over 1 GiB")

        if a.only in (None, "slow"):
            n, secs = (300, 10) if a.quick else (1100 * a.spread, 40)
            with Sampler(emu.pid, base) as s:
                opened, alive = slow_bodies(host, port, n, secs, a.spread)
            print(f"slow bodies from {a.spread} address(es): {opened} of {n} connections "
                  f"opened, {alive} still open after {secs} s at 1 byte/s; {s.line()}")
            if not a.quick and alive and a.spread == 1:
                bad.append(f"slow bodies: {alive} connections outlived the 30 s body deadline")
    finally:
        alive = emu.poll() is None
        emu.kill()
        emu.wait()
    if not alive:
        bad.append("the emulator died")
    for b in bad:
        print("NOT AS DOCUMENTED:", b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
