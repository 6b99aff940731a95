#!/usr/bin/env python3
"""Runs the benches that have a floor and writes benches/README.md: each operation beside its
floor measured in the same run (criterion's JSON in target/criterion), the ratio, and the
machine. One command:

    python3 benches/report.py            # run the benches below, then write benches/README.md
    python3 benches/report.py --no-run   # only rewrite the report from target/criterion
    python3 benches/report.py --all      # also the group, registration and legacy benches

What it runs (each `cargo bench` with criterion's default settings from the bench files):
  * `aead` and `attachment`, once with the default RustCrypto backend and once with
    `--features ring`: their group names carry the backend, so both sit side by side;
  * `pairwise` (default backend): 64 B and 1 KiB latency, 16 KiB and 1 MiB throughput;
  * `examples/attachment_memory.rs` for 256 files of 1 MiB, 4 of 64 MiB and 1 of 1 GiB,
    content-bound and unbound, both backends: each 1 MiB piece goes through the crate and then
    the bare AEAD, interleaved (robust on a shared machine); it also prints the peak RSS.

Each criterion group pairs `letterseal*` (and `cost_*`) entries with the `baseline` entry of
the same group and parameter (or `floor`, as the group bench names them, or
`baseline_all_primitives` where a group has neither).
The ratio `op / floor` is time over time (1.00 = the floor; the issue's 0.9× throughput
target is a ratio of at most 1.11); `floor / op` is the throughput ratio.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"
OUT = ROOT / "benches" / "README.md"
# The floor entry of a group, by preference (the group bench names its floors `floor`).
FLOOR_NAMES = ("baseline", "floor", "baseline_all_primitives")


def sh(cmd: list[str], **kw) -> str:
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def machine() -> list[str]:
    cpu, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ["aes", "pclmulqdq", "vaes", "vpclmulqdq", "sha_ni", "avx2", "avx512f"]
    rustc = sh(["rustc", "--version"]).strip()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores; flags: "
        + ", ".join(f for f in wanted if f in flags),
        f"- OS: {platform.system()} {platform.release()}; {rustc}; no `-C target-cpu` flags",
        f"- load average when the report was written: {', '.join(f'{x:.2f}' for x in load)} "
        "(the machine is shared: absolute numbers move, ratios from the same run much less)",
    ]


def read_results(since: float) -> dict:
    """(group, function, parameter) -> (mean ns, throughput bytes or None)."""
    results = {}
    for bench in CRITERION.glob("**/new/benchmark.json"):
        est = bench.parent / "estimates.json"
        if not est.exists() or est.stat().st_mtime < since:
            continue
        b = json.loads(bench.read_text())
        e = json.loads(est.read_text())
        function, param = b["function_id"], b.get("value_str")
        if param is None and function and "/" in function:
            function, param = function.split("/", 1)
        tp = (b.get("throughput") or {}).get("Bytes")
        results[(b["group_id"], function or "", param or "")] = (e["mean"]["point_estimate"], tp)
    return results


def fmt_time(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_rate(ns: float, tp) -> str:
    return f"{tp / ns * 1e9 / 1e9:.2f} GB/s" if tp else ""


def table(results: dict, groups: list[str]) -> list[str]:
    rows = ["| group | operation | parameter | time | throughput | floor | floor time | op / floor | floor / op |",
            "|---|---|---|---:|---:|---|---:|---:|---:|"]
    for group in groups:
        keys = sorted(k for k in results if k[0] == group)
        for (g, function, param) in keys:
            if function.startswith("baseline") or function == "floor":
                continue
            floor_name = next((f for f in FLOOR_NAMES if (g, f, param) in results), FLOOR_NAMES[-1])
            floor = results.get((g, floor_name, param))
            ns, tp = results[(g, function, param)]
            if floor is None:
                rows.append(f"| {g} | {function} | {param} | {fmt_time(ns)} | {fmt_rate(ns, tp)} | — | | | |")
                continue
            fns, _ = floor
            rows.append(f"| {g} | {function} | {param} | {fmt_time(ns)} | {fmt_rate(ns, tp)} | {floor_name} | "
                        f"{fmt_time(fns)} | {ns / fns:.2f} | {fns / ns:.2f} |")
    return rows


def side_by_side(results: dict, stem: str) -> list[str]:
    """The attachment/aead groups of both backends in one table."""
    backends = ["rustcrypto", "ring"]
    ops = sorted({(f, p) for (g, f, p) in results for b in backends if g == f"{stem}_{b}"
                  and not f.startswith("baseline")}, key=lambda x: (x[1], x[0]))
    rows = [f"| `{stem}` operation | parameter | " + " | ".join(
        f"{b}: throughput | {b}: floor / op" for b in backends) + " |",
            "|---|---|" + "---:|---:|" * len(backends)]
    for f, p in ops:
        cells = []
        for b in backends:
            g = f"{stem}_{b}"
            r, fl = results.get((g, f, p)), results.get((g, "baseline", p))
            if r is None:
                cells += ["—", "—"]
            else:
                cells += [fmt_rate(*r) or fmt_time(r[0]), f"{fl[0] / r[0]:.2f}" if fl else "—"]
        rows.append(f"| {f} | {p} | " + " | ".join(cells) + " |")
    for b in backends:
        fl = sorted((p, v) for (g, f, p), v in results.items() if g == f"{stem}_{b}" and f == "baseline")
        if fl:
            rows.append("")
            rows.append(f"{b} floor (`baseline`): " + "; ".join(f"{p} {fmt_rate(*v) or fmt_time(v[0])}" for p, v in fl))
    return rows


def interleaved_runs(run: bool) -> list[str]:
    out = ["| backend | files | binding | seal | seal floor | seal floor / op | open | open floor | open floor / op | peak RSS |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    if not run:
        return []
    for features in ([], ["--features", "ring"]):
        sh(["cargo", "build", "-q", "--release", "--example", "attachment_memory", *features])
        for (mib, files), binding in [(s, b) for s in ((1, 256), (64, 4), (1024, 1)) for b in ("unbound", "content")]:
            text = sh([str(ROOT / "target" / "release" / "examples" / "attachment_memory"), str(mib), str(files), binding])
            seal = re.search(r"seal:\s+([\d.]+) MiB/s.*floor\s+([\d.]+) MiB/s; ratio ([\d.]+)", text)
            opn = re.search(r"open:\s+([\d.]+) MiB/s.*floor\s+([\d.]+) MiB/s; ratio ([\d.]+)", text)
            rss = re.search(r"peak RSS: (\d+) KiB", text)
            backend = re.search(r"backend (\w+)", text)
            out.append(f"| {backend.group(1)} | {files} × {mib} MiB | {binding} | {float(seal.group(1)):.0f} MiB/s | {float(seal.group(2)):.0f} MiB/s | "
                       f"{seal.group(3)} | {float(opn.group(1)):.0f} MiB/s | {float(opn.group(2)):.0f} MiB/s | {opn.group(3)} | "
                       f"{int(rss.group(1)) / 1024:.1f} MiB |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-run", action="store_true", help="only rewrite the report from target/criterion")
    ap.add_argument("--all", action="store_true", help="also run the group, registration and legacy benches")
    args = ap.parse_args()
    since = 0.0
    commands = []
    if not args.no_run:
        since = time.time()
        # The benches build their inputs with deterministic constructors (feature `hazmat`).
        runs = [["cargo", "bench", "--features", "hazmat", "--bench", "aead", "--bench", "attachment", "--", "--noplot"],
                ["cargo", "bench", "--features", "hazmat,ring", "--bench", "aead", "--bench", "attachment", "--", "--noplot"],
                ["cargo", "bench", "--features", "hazmat", "--bench", "pairwise", "--", "--noplot"]]
        if args.all:
            runs.append(["cargo", "bench", "--features", "hazmat", "--bench", "registration", "--bench", "group",
                         "--", "--noplot"])
            runs.append(["cargo", "bench", "-p", "letterseal-legacy", "--bench", "legacy", "--", "--noplot"])
        for cmd in runs:
            sh(cmd)
            commands.append(" ".join(cmd))
    results = read_results(since)
    groups = sorted({g for (g, _, _) in results})
    lines = [
        "# Benchmarks",
        "",
        "Written by `python3 benches/report.py` (do not edit by hand). Every operation is measured",
        "beside its floor — the bare primitives it is built on — in the same run, so the ratio is what",
        "to compare across machines and commits; `op / floor` is time over time (lower is better,",
        "1.00 = the floor) and `floor / op` the throughput ratio (the attachment target is ≥ 0.9 of",
        "the bare AES-256-GCM; with the `ring` backend ≥ 0.8). Each bench file documents its entries.",
        "",
        f"Generated {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
    ]
    if commands:
        lines += ["Commands:", "", "```", *commands, "```", ""]
    lines += ["## Attachments, both AES-GCM backends side by side", ""]
    lines += side_by_side(results, "attachment_seal") + [""]
    lines += side_by_side(results, "attachment_open") + [""]
    inter = interleaved_runs(not args.no_run)
    if inter:
        lines += ["### Interleaved with the floor: 1 MiB, 64 MiB and 1 GiB files (`examples/attachment_memory.rs`)", "",
                  "Each 1 MiB piece goes through the crate (caller buffers) and then through the bare AEAD of",
                  "the same build doing the same job (64 KiB chunks, output into a separate buffer), so load",
                  "from other work on the shared machine hits both alike: these ratios are the ones to trust",
                  "here. Every file has its own sealer and opener (per-file costs count); the peak RSS shows",
                  "that memory stays flat.", ""]
        lines += inter + [""]
    lines += ["## AEAD wrappers, both backends side by side", ""]
    lines += side_by_side(results, "aead_seal_open") + [""]
    lines += side_by_side(results, "aead_into") + [""]
    lines += ["## Every group", ""]
    lines += table(results, groups) + [""]
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT.relative_to(ROOT)} ({len(results)} results)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
