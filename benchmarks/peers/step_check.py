#!/usr/bin/python3
"""Do gcbench's engine and PyTorch compute the same thing? Same weights, same batches,
dropout off: compare the logits and every gradient of one step, then the losses of STEPS
RMSprop steps (with or without GC) and the weights they end at.

    /usr/bin/python3 benchmarks/peers/step_check.py --data /tmp/fmnist2 --image-size 96 \\
        --batch 128 --steps 20 --seed 1 --scope none all

--optimizers: every optimizer alone (no data needed), on the seed model's weights and the same
random gradients for --steps steps, against the same optimizer written in PyTorch in Keras 3's
operations (optim_peer.KerasOptimizer), and against PyTorch's built-in where it exists (where
its definition differs, the table says so: optim_peer.py's docstring):

    /usr/bin/python3 benchmarks/peers/step_check.py --optimizers --image-size 96 --steps 5

gcbench's side is step_check.c (compiled here against build/release/libgcbench_core.a,
which `cmake --build --preset release` produces); torch's side is torch_peer.py's model,
--init gcbench weights and KerasRMSprop. Exit status 1 when a gradient or the logits differ
by more than --tol (relative to the tensor's largest magnitude).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer as tp  # noqa: E402
import optim_peer as op  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def build(binary, unfused=False):
    lib = os.path.join(ROOT, "build", "release", "libgcbench_core.a")
    if not os.path.exists(lib):
        raise SystemExit("step_check: %s is missing: cmake --preset release && cmake --build --preset release" % lib)
    defs = ["-DSTEP_CHECK_FUSED=%d" % (0 if unfused else 1)]
    cmd = ["gcc", "-O2", "-fopenmp", "-I", ROOT] + defs + [os.path.join(HERE, "step_check.c"), lib,
           "-ldnnl", "-lpng", "-lhwloc", "-lm", "-o", binary]
    subprocess.run(cmd, check=True)


def torch_side(size, seed, scope, lr, xs, ys, batch, steps, channels_last):
    model = tp.SeedCNN(size)
    tp.init_gcbench(model, seed)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    model.eval()  # dropout off, gradients still on
    opt = tp.KerasRMSprop(model.parameters(), lr=lr, gc=None if scope == "none" else scope)
    params = [p for layer in model.layers_in_order() for p in (layer.weight, layer.bias)]
    losses, logits0, grads0 = [], None, None
    for s in range(steps):
        x = xs[s * batch:(s + 1) * batch]
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = ys[s * batch:(s + 1) * batch].float()
        logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        if s == 0:
            logits0 = logits.detach().numpy().copy()
            grads0 = [p.grad.detach().contiguous().numpy().ravel().copy() for p in params]
        losses.append(loss.item())
        opt.step()
    weights = [p.detach().contiguous().numpy().ravel().copy() for p in params]
    return logits0, grads0, np.array(losses), weights, params


def rel(a, b):
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-30)
    return float(np.abs(a - b).max() / scale)


# The optimizer settings --optimizers checks: (label, name, hyperparameters, gc scope, gc on).
OPTIMIZER_CASES = [
    ("rmsprop", "rmsprop", {}, "all", "gradient"),
    ("rmsprop wd decoupled", "rmsprop", {"weight_decay": 0.05}, "all", "gradient"),
    ("sgd", "sgd", {}, "all", "gradient"),
    ("sgd momentum 0.9", "sgd", {"momentum": 0.9}, "all", "gradient"),
    ("sgd nesterov", "sgd", {"momentum": 0.9, "nesterov": True}, "all", "gradient"),
    ("sgd momentum, wd coupled", "sgd", {"momentum": 0.9, "weight_decay": 5e-4, "coupled": True}, "all", "gradient"),
    ("sgd momentum, no gc", "sgd", {"momentum": 0.9}, "none", "gradient"),
    ("adam", "adam", {}, "all", "gradient"),
    ("adam, wd coupled", "adam", {"weight_decay": 1e-2, "coupled": True}, "all", "gradient"),
    ("adamw", "adamw", {}, "all", "gradient"),
    ("adagrad", "adagrad", {}, "all", "gradient"),
    ("sgd momentum, gc on update", "sgd", {"momentum": 0.9}, "all", "update"),
    ("adam, gc on update", "adam", {}, "all", "update"),
    ("adamw, gc on update", "adamw", {}, "all", "update"),
    ("adagrad, gc on update", "adagrad", {}, "all", "update"),
    ("rmsprop, gc on update", "rmsprop", {}, "all", "update"),
]


def hp_args(hp):
    keys = {"nesterov": lambda v: "1" if v else "0", "coupled": lambda v: "1" if v else "0"}
    return ["%s=%s" % (k, keys.get(k, repr)(v)) for k, v in hp.items()]


def check_optimizers(args):
    """--optimizers: the table of agreements; False when gcbench and the Keras form differ by
    more than --tol of how far the weights moved."""
    torch.manual_seed(args.seed)
    model = tp.SeedCNN(args.image_size)
    tp.init_gcbench(model, args.seed)
    params0 = [p.detach().clone() for layer in model.layers_in_order() for p in (layer.weight, layer.bias)]
    # gradients: N(0, 0.01) plus a per-output-unit offset (GC has a mean to remove)
    grads = []
    for s in range(args.steps):
        step = []
        for p in params0:
            g = torch.randn(p.shape) * 1e-2
            if p.dim() > 1:
                g += (torch.rand((p.shape[0],) + (1,) * (p.dim() - 1)) - 0.5) * 1e-2
            step.append(g.float())
        grads.append(step)
    ok = True
    print("optimizer alone, %d steps on the seed model at %d px: max |w difference| / max |w moved|"
          % (args.steps, args.image_size))
    print("  %-28s %7s %8s %14s %14s" % ("setting", "gc", "gc on", "vs Keras form", "vs torch built-in"))
    with tempfile.TemporaryDirectory() as tmp:
        fin, fout = os.path.join(tmp, "in.f32"), os.path.join(tmp, "out.f32")
        with open(fin, "wb") as f:
            for p in params0:
                f.write(p.numpy().astype(np.float32).tobytes())
            for step in grads:
                for g in step:
                    f.write(g.numpy().astype(np.float32).tobytes())
        for label, name, hp, scope, gc_on in OPTIMIZER_CASES:
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
            subprocess.run([args.binary, "optim", str(args.image_size), str(args.steps), name, scope, gc_on, fin, fout]
                           + hp_args(hp), check=True, env=env, stderr=subprocess.DEVNULL)
            raw = np.fromfile(fout, dtype=np.float32)
            total = sum(p.numel() for p in params0)
            assert raw.size == total * args.steps, (raw.size, total)
            g_w = raw[-total:]  # after the last step
            keras = [p.clone() for p in params0]
            ko = op.KerasOptimizer(name, keras, hp, scope, gc_on)
            for step in grads:
                ko.step(step)
            k_w = np.concatenate([p.numpy().ravel() for p in keras])
            w0 = np.concatenate([p.numpy().ravel() for p in params0])
            moved = max(np.abs(g_w - w0).max(), 1e-30)
            d_keras = np.abs(g_w - k_w).max() / moved
            ok &= d_keras < args.tol
            d_torch = "-"
            if op.TorchBuiltin.available(name, hp, gc_on):
                builtin = [p.clone().requires_grad_(True) for p in params0]
                to = op.TorchBuiltin(name, builtin, hp, scope)
                for step in grads:
                    to.step(step)
                t_w = np.concatenate([p.detach().numpy().ravel() for p in builtin])
                d_torch = "%.2e" % (np.abs(g_w - t_w).max() / moved)
            print("  %-28s %7s %8s %14.2e %14s" % (label, scope, gc_on, d_keras, d_torch))
    print("(torch built-in: '-' where PyTorch has no such optimizer; differences of order 1 are the definitions'"
          " (eps placement), see benchmarks/peers/optim_peer.py)")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/fmnist2")
    ap.add_argument("--image-size", type=int, default=96)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--scope", nargs="+", default=["none", "all"], choices=["none", "all", "conv"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels-last", action="store_true", help="torch side in channels_last")
    ap.add_argument("--binary", default=os.path.join(tempfile.gettempdir(), "gcbench_step_check"))
    ap.add_argument("--unfused", action="store_true", help="gcbench's one-layer-per-Keras-layer network")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--optimizers", action="store_true", help="every optimizer alone against PyTorch (no data)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    build(args.binary, args.unfused)
    if args.optimizers:
        ok = check_optimizers(args)
        print("OK" if ok else "MISMATCH")
        return 0 if ok else 1

    images, labels, classes = tp.load_folder(os.path.join(args.data, "train"), args.image_size)
    n = args.batch * args.steps
    if n > images.shape[0]:
        raise SystemExit("step_check: %d images needed, %d in %s/train" % (n, images.shape[0], args.data))
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(args.seed))[:n]
    xs = images[order].float().mul_(1.0 / 255.0).contiguous()
    ys = labels[order]

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        fin, flab = os.path.join(tmp, "input.f32"), os.path.join(tmp, "labels.u8")
        xs.numpy().astype(np.float32).tofile(fin)
        ys.numpy().astype(np.uint8).tofile(flab)
        for scope in args.scope:
            fout = os.path.join(tmp, "out_%s.bin" % scope)
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
            subprocess.run([args.binary, str(args.image_size), str(args.batch), str(args.steps), str(args.seed),
                            scope, repr(args.lr), fin, flab, fout], check=True, env=env)
            t_logits, t_grads, t_losses, t_w, params = torch_side(
                args.image_size, args.seed, scope, args.lr, xs, ys, args.batch, args.steps, args.channels_last)
            raw = open(fout, "rb").read()
            off = 0

            def take(count, dtype=np.float32):
                nonlocal off
                a = np.frombuffer(raw, dtype=dtype, count=count, offset=off)
                off += a.nbytes
                return a
            g_logits = take(args.batch)
            g_grads = [take(p.numel()) for p in params]
            g_losses = take(args.steps, np.float64)
            g_w = [take(p.numel()) for p in params]
            assert off == len(raw), (off, len(raw))

            init = tp.SeedCNN(args.image_size)
            tp.init_gcbench(init, args.seed)
            w0 = [p.detach().numpy().ravel() for layer in init.layers_in_order() for p in (layer.weight, layer.bias)]
            names = ["%s.%s" % (ln, pn) for ln in ["conv1", "conv2", "conv3", "conv4", "conv5", "dense1", "dense2"]
                     for pn in ("kernel", "bias")]
            print("scope %s: step 1 logits max rel diff %.2e" % (scope, rel(g_logits, t_logits)))
            ok &= rel(g_logits, t_logits) < args.tol
            print("  %-14s %10s %12s %14s" % ("tensor", "grad diff", "|grad| max", "w diff/moved"))
            for name, a, b, wa, wb, w00 in zip(names, g_grads, t_grads, g_w, t_w, w0):
                moved = max(np.abs(wa - w00).max(), np.abs(wb - w00).max(), 1e-30)
                r = rel(a, b)
                ok &= r < args.tol
                print("  %-14s %10.2e %12.3e %14.2e" % (name, r, np.abs(b).max(), np.abs(wa - wb).max() / moved))
            print("  losses gcbench: %s" % " ".join("%.5f" % v for v in g_losses))
            print("  losses torch:   %s" % " ".join("%.5f" % v for v in t_losses))
            print("  max |loss diff| over %d steps: %.2e" % (args.steps, np.abs(g_losses - t_losses).max()))
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
