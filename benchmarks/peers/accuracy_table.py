#!/usr/bin/python3
"""Final validation accuracies of gcbench and torch_peer.py, per seed and over seeds.

    /usr/bin/python3 benchmarks/peers/accuracy_table.py \\
        --gcbench /tmp/g_1.jsonl /tmp/g_2.jsonl /tmp/g_3.jsonl \\
        --torch /tmp/t_1.jsonl /tmp/t_2.jsonl /tmp/t_3.jsonl

gcbench files are its --log output ({"event":"epoch",...} records); torch files are
torch_peer.py's stdout. Files are paired by position (the seed is read from gcbench's config
record where present). Prints a Markdown table: final val_accuracy of the baseline and GC
runs, the mean of the last three epochs' val_accuracy (less sensitive to one epoch's noise),
the run's time and its median images/s over epochs 2+; then mean, sample standard deviation
and range over the seeds, and gcbench - torch.
"""
import argparse
import json
import statistics


def read(path):
    """{run: [epoch records in order]}, seed or None."""
    runs, seed = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            rec = json.loads(line)
            if rec.get("event") == "config":
                seed = rec.get("seed")
            if "run" in rec and "epoch" in rec and rec.get("event", "epoch") == "epoch":
                runs.setdefault(rec["run"], []).append(rec)
    return runs, seed


def run_stats(epochs):
    later = [e["images_per_second"] for e in epochs[1:]] or [epochs[0]["images_per_second"]]
    return {"final": epochs[-1]["val_accuracy"],
            "last3": statistics.mean(e["val_accuracy"] for e in epochs[-3:]),
            "seconds": sum(e["seconds"] for e in epochs),
            "ips": statistics.median(later)}


def spread(values):
    m = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return m, sd, min(values), max(values)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcbench", nargs="+", required=True)
    ap.add_argument("--torch", nargs="+", required=True)
    args = ap.parse_args()
    if len(args.gcbench) != len(args.torch):
        ap.error("as many gcbench files as torch files, one per seed, in the same order")
    rows = []
    for gpath, tpath in zip(args.gcbench, args.torch):
        g, gseed = read(gpath)
        t, tseed = read(tpath)
        rows.append((gseed if gseed is not None else tseed, {("gcbench", r): run_stats(v) for r, v in g.items()},
                     {("torch", r): run_stats(v) for r, v in t.items()}))
    cols = [(e, r) for e in ("gcbench", "torch") for r in ("baseline", "gc")]
    print("| seed | " + " | ".join("%s %s" % c for c in cols) + " |")
    print("|---|" + "---|" * len(cols))
    per_col = {c: [] for c in cols}
    for seed, g, t in rows:
        both = {**g, **t}
        cells = []
        for c in cols:
            s = both.get(c)
            if s:
                per_col[c].append(s)
                cells.append("%.3f (last3 %.3f; %.0f s, %.0f img/s)" % (s["final"], s["last3"], s["seconds"], s["ips"]))
            else:
                cells.append("-")
        print("| %s | %s |" % (seed, " | ".join(cells)))
    for key, label in (("final", "final val_accuracy"), ("last3", "last-3-epoch mean")):
        cells = []
        for c in cols:
            vals = [s[key] for s in per_col[c]]
            cells.append("%.3f +- %.3f [%.3f, %.3f]" % spread(vals) if vals else "-")
        print("| mean +- sd [min, max], %s | %s |" % (label, " | ".join(cells)))
    print()
    for run in ("baseline", "gc"):
        g = [s["final"] for s in per_col[("gcbench", run)]]
        t = [s["final"] for s in per_col[("torch", run)]]
        if g and t:
            diffs = [a - b for a, b in zip(g, t)]
            print("%s: gcbench - torch, final val_accuracy: mean %+.3f (per seed: %s)"
                  % (run, statistics.mean(g) - statistics.mean(t), ", ".join("%+.3f" % d for d in diffs)))
    for eng in ("gcbench", "torch"):
        b = [s["final"] for s in per_col[(eng, "baseline")]]
        c = [s["final"] for s in per_col[(eng, "gc")]]
        if b and c:
            print("%s: gc - baseline, final val_accuracy: mean %+.3f (per seed: %s)"
                  % (eng, statistics.mean(c) - statistics.mean(b), ", ".join("%+.3f" % (y - x) for x, y in zip(b, c))))


if __name__ == "__main__":
    main()
