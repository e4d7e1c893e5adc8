#!/usr/bin/python3
"""gcbench beside its bounds and its peer, back to back on one machine: a table of ratios.

Runs, each --repeats times, in turn:
  conv_bound             the model's convolution primitives alone (oneDNN), one batch;
  conv_bound --best      every implementation oneDNN offers at every chunk size, the best per
                         layer and direction: the oneDNN limit on this machine;
  gcbench --no-gc        training throughput (median images/s of epochs 2+) and peak RSS;
  gcbench --gc           the same with GC: the overhead is the ratio of the two, and GC's
                         own cost the optimizer phase of --profile, with GC less without;
  torch_peer.py          the same model, batch and data shape in PyTorch (channels_last);
  gcbench at 1 thread    with --speedup: the 1 -> --threads speedup, pair by pair.
and prints median, min and max of each figure and the ratios of the medians. Every gcbench run
replays the chunk plan of the first one (--plan, from its log's plan record). Neither gcbench
nor the peer augments here (--no-augment): the same work on both sides. Peak RSS is
measured by GNU time (/usr/bin/time -f %M) around each process.

  /usr/bin/python3 benchmarks/peers/compare.py [--build build/release] [--repeats 3]
      [--image-size 300] [--batch 128] [--threads 2] [--epochs 3] [--train-images 1027]
      [--torch-images 384] [--no-torch] [--speedup] [--precision fp32|bf16] [--json FILE]

With --precision bf16, gcbench trains in bf16 and the limit is conv_bound --best --bf16; the
plain bound (oneDNN's first implementations, fp32 only) is skipped, and PyTorch stays fp32.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def timed(cmd):
    """Runs cmd under GNU time; returns (stdout, peak RSS in MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit("compare.py: %s failed (exit %d):\n%s" % (cmd[0], proc.returncode, proc.stderr[-2000:]))
        return proc.stdout, int(rss.read().strip().splitlines()[-1]) / 1024.0


def bf16_flag(a):
    return ["--bf16"] if a.precision == "bf16" else []


def conv_bound(a):
    out, _ = timed([os.path.join(a.build, "conv_bound"), "--json", "--image-size", str(a.image_size),
                    "--batch", str(a.batch), "--threads", str(a.threads)])
    total = [json.loads(l) for l in out.splitlines() if '"total"' in l][0]
    return {"images_per_second": total["images_per_second"]}


def conv_bound_best(a):
    out, _ = timed([os.path.join(a.build, "conv_bound"), "--best", "--json", "--image-size", str(a.image_size),
                    "--batch", str(a.batch), "--threads", str(a.threads)] + bf16_flag(a))
    rows = [json.loads(l) for l in out.splitlines()]
    total = [r for r in rows if r.get("layer") == "total"][0]
    return {"images_per_second": total["images_per_second"], "rows": [r for r in rows if r.get("layer") != "total"]}


PLAN = {}  # the plan file every gcbench run after the first replays


def write_plan(record):
    f = tempfile.NamedTemporaryFile("w", suffix=".plan", delete=False)
    for r in record["layers"]:
        impls = [r["forward_impl"], r["backward_data_impl"], r["backward_weights_impl"]]
        f.write("%s forward %d backward %d %s\n" % (r["layer"], r["forward_chunk"], r["backward_chunk"],
                                                   " ".join(i or "-" for i in impls)))
    f.close()
    PLAN["path"] = f.name


def gcbench(a, gc, threads=None):
    """One run; threads other than --threads calibrate (or reuse) their own plan, as a user's would."""
    threads = threads or a.threads
    shared = threads == a.threads  # the runs that share the first run's plan
    plan = ["--plan", PLAN["path"]] if "path" in PLAN and shared else []
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as log:
        _, rss = timed([os.path.join(a.build, "gcbench"), "--gc" if gc else "--no-gc", "--quiet"] + plan + [
                        "--image-size", str(a.image_size), "--batch", str(a.batch), "--threads", str(threads),
                        "--epochs", str(a.epochs), "--train-images", str(a.train_images), "--val-images", "128",
                        "--no-augment", "--precision", a.precision, "--profile", "--log", log.name])  # the peer does not augment either
        records = [json.loads(l) for l in log.read().splitlines()]
    if "path" not in PLAN and shared:
        write_plan([r for r in records if r["event"] == "plan"][0])
    summary = [r for r in records if r["event"] == "summary"][0]
    epochs = [r for r in records if r["event"] == "epoch"][1:]  # epoch 1 pays first-touch costs
    profiles = [r for r in records if r["event"] == "profile"][1:]
    return {"images_per_second": summary["images_per_second"], "peak_rss_mb": rss,
            "train_seconds_per_epoch": statistics.median(e["train_seconds"] for e in epochs),
            "optimizer_seconds_per_epoch": statistics.median(p["optimizer"] for p in profiles),
            "step_seconds_per_epoch": statistics.median(p["step_seconds"] for p in profiles)}


def torch_peer(a):
    out, rss = timed(["/usr/bin/python3", os.path.join(HERE, "torch_peer.py"), "--synthetic", "--no-gc",
                      "--channels-last", "--image-size", str(a.image_size), "--batch", str(a.batch),
                      "--threads", str(a.threads), "--epochs", str(a.epochs), "--train-images",
                      str(a.torch_images), "--val-images", "0"])
    summary = [json.loads(l) for l in out.splitlines() if '"summary"' in l][0]["summary"]
    return {"images_per_second": summary["images_per_second"], "peak_rss_mb": rss}


def spread(values):
    return statistics.median(values), min(values), max(values)


def paired(runs, a, b, f):
    """f(run of a, run of b), pair by pair within each round: median, min, max."""
    return spread([f(x, y) for x, y in zip(runs[a], runs[b])])


def ips_ratio(x, y):
    return x["images_per_second"] / y["images_per_second"]


def spread_pct(runs, bound):
    """gcbench / bound in percent, pair by pair within each round: median, min, max."""
    return paired(runs, "baseline", bound, lambda g, b: 100 * ips_ratio(g, b))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--image-size", type=int, default=300)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train-images", type=int, default=1027)
    p.add_argument("--torch-images", type=int, default=384, help="PyTorch is slow: fewer images per epoch")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--speedup", action="store_true", help="also gcbench --no-gc at 1 thread: the speedup to --threads")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--json", help="also write every measurement to this file")
    a = p.parse_args()
    if not a.no_torch:  # fail before the first timing, not after it
        probe = subprocess.run(["/usr/bin/python3", "-c", "import numpy, torch, PIL"], stderr=subprocess.PIPE, text=True)
        if probe.returncode != 0:
            sys.exit("compare.py: the PyTorch peer needs numpy, torch and PIL for /usr/bin/python3 "
                     "(apt-get install python3-torch python3-pil), or pass --no-torch:\n" + probe.stderr.strip().splitlines()[-1])

    runs = {"best": [], "bound": [], "baseline": [], "gc": [], "torch": [], "one_thread": []}
    for i in range(a.repeats):  # interleaved, so drifting load hits every figure alike
        runs["best"].append(conv_bound_best(a))
        if a.precision == "fp32":
            runs["bound"].append(conv_bound(a))
        runs["baseline"].append(gcbench(a, False))
        runs["gc"].append(gcbench(a, True))
        if not a.no_torch:
            runs["torch"].append(torch_peer(a))
        if a.speedup:
            runs["one_thread"].append(gcbench(a, False, threads=1))
        print("round %d of %d done" % (i + 1, a.repeats), file=sys.stderr)

    ips = {k: spread([r["images_per_second"] for r in v]) for k, v in runs.items() if v}
    print("gcbench against its bounds and its peer: %dx%d, batch %d, %d threads, %s, median of %d (min..max)"
          % (a.image_size, a.image_size, a.batch, a.threads, a.precision, a.repeats))
    print("  %-40s %10s %22s" % ("", "images/s", "min..max"))
    labels = {"best": "the oneDNN limit (conv_bound --best)", "bound": "oneDNN convolutions alone (conv_bound)", "baseline": "gcbench, no GC",
              "gc": "gcbench, GC (all kernels)", "torch": "PyTorch 1.13, channels_last",
              "one_thread": "gcbench, no GC, 1 thread"}
    for k in ["best", "bound", "baseline", "gc", "torch", "one_thread"]:
        if k in ips:
            m, lo, hi = ips[k]
            print("  %-40s %10.1f %10.1f..%-10.1f" % (labels[k], m, lo, hi))
    print("ratios (of medians):")
    print("  gcbench / oneDNN limit       %6.1f%%  (%.1f..%.1f, round by round)" % spread_pct(runs, "best"))
    if runs["bound"]:
        print("  gcbench / convolution bound  %6.1f%%  (%.1f..%.1f, round by round)" % spread_pct(runs, "bound"))
    if "torch" in ips:
        print("  gcbench / PyTorch            %6.2fx" % (ips["baseline"][0] / ips["torch"][0]))
    if runs["one_thread"]:
        m, lo, hi = paired(runs, "baseline", "one_thread", ips_ratio)
        print("  1 -> %d threads              %6.2fx  (%.2f..%.2f, round by round)" % (a.threads, m, lo, hi))
    m, lo, hi = paired(runs, "gc", "baseline",
                       lambda g, b: 100 * (g["train_seconds_per_epoch"] / b["train_seconds_per_epoch"] - 1))
    print("  GC time per epoch            %+6.2f%%  (%+.2f..%+.2f, round by round: the noise, mostly)" % (m, lo, hi))
    m, lo, hi = paired(runs, "gc", "baseline", lambda g, b: 100 * (g["optimizer_seconds_per_epoch"] -
                                                                   b["optimizer_seconds_per_epoch"]) / b["step_seconds_per_epoch"])
    print("  GC's own cost (--profile)    %+6.3f%%  (%+.3f..%+.3f, round by round: the optimizer phase with GC less"
          " without, of the epoch's steps)" % (m, lo, hi))
    for k in ["baseline", "torch"]:
        if runs[k]:
            m, lo, hi = spread([r["peak_rss_mb"] for r in runs[k]])
            print("  peak RSS %-19s %7.0f MB (%.0f..%.0f)" % (labels[k].split(",")[0], m, lo, hi))
    print("winning oneDNN configurations (last round):")
    for r in runs["best"][-1]["rows"]:
        print("  conv2d%s %-16s chunk %4d  %-24s %.3f ms/image" % ("_%d" % (r["layer"] - 1) if r["layer"] > 1 else "",
                                                                  r["direction"], r["chunk"], r["impl"], r["ms_per_image"]))
    if "path" in PLAN:
        os.unlink(PLAN["path"])
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
