#!/usr/bin/python3
"""gcbench's experiment in PyTorch: the seed's CNN, Keras's RMSprop, optional Gradient
Centralization (GC), on PNG class folders or on random images shaped like the seed's.

Two uses:
  accuracy, the same data as gcbench --data DIR:
    /usr/bin/python3 benchmarks/peers/torch_peer.py --data /tmp/fmnist2 --image-size 96 \\
        --epochs 10 --compare --seed 1 --threads 2
  a paired study over seeds, gcbench's records in the log, its statistics from gcbench's code:
    /usr/bin/python3 benchmarks/peers/torch_peer.py --data /tmp/fmnist2 --image-size 96 \
        --epochs 10 --seeds 10 --seed 42 --init gcbench --threads 2 --log torch.jsonl
    build/release/study_log torch.jsonl --target-accuracy 0.85 --report torch
  speed, random 300x300x3 images, batch 128, like the seed (1027 train, 256 validation):
    /usr/bin/python3 benchmarks/peers/torch_peer.py --synthetic --epochs 3 --no-gc \\
        --threads 2 --channels-last

stdout: one JSON object per line, per epoch
  {"run":"baseline"|"gc","epoch":k,"loss":..,"accuracy":..,"val_loss":..,"val_accuracy":..,
   "seconds":..,"train_seconds":..,"images_per_second":..}
and one {"summary":{...}} line per run (median images/s over epochs 2+, peak RSS). --log FILE
gets the config, then per run gcbench's run_start, epoch and summary records (with "event" and
the run's "seed"), the contract benchmarks/study_log.c reads.
stderr: one human-readable line per epoch.

What is the same as gcbench (see README.md, "What is trained, exactly"):
- model: Conv(16,3x3,relu) Pool | Conv(32) Dropout(.5) Pool | Conv(64) Dropout(.5) Pool |
  Conv(64) Pool | Conv(64) Pool | Flatten (h,w,c order) Dropout(.5) Dense(512,relu) Dense(1);
  valid padding, stride 1, max-pool 2x2 stride 2 (floor);
- init: Glorot-uniform kernels with Keras's fans (receptive field x channels), zero biases;
  --init gcbench reproduces gcbench's weights bit for bit (its counter-based generator), and
  the run prints gcbench's init_checksum so the two logs can be compared;
- loss: sigmoid + binary cross-entropy from the logit (BCEWithLogitsLoss), accuracy at 0.5;
- RMSprop as Keras: v = rho v + (1-rho) g^2; w -= lr g / sqrt(v + eps) (eps inside the sqrt);
- GC: before the update, every gradient of rank > 1 (torch's dim 0 is the output unit)
  minus its mean over the other dims; biases untouched; --gc-scope conv: conv kernels only;
- data: classes = sorted folder names (labels 0, 1, ...), files in sorted name order, decoded
  to 8-bit RGB (gray expanded, alpha dropped, 16-bit keeps the high byte), resized with
  TensorFlow's bilinear convention (half-pixel centres, no antialias) and rounded to uint8,
  then scaled by 1/255;
- both runs of --compare start from the same weights (state_dict saved after init and
  reloaded) and see the same shuffles, augmentation and dropout draws (every generator is
  re-seeded per run), so GC is the only difference.
What differs: the random streams (shuffle order, dropout masks, augmentation draws, and the
Glorot draws unless --init gcbench) come from torch's generators, not gcbench's.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

# The seed's model.
STAGES = [(16, False), (32, True), (64, True), (64, False), (64, False)]  # filters, dropout
KERNEL, POOL, DROPOUT, HIDDEN = 3, 2, 0.5, 512
# The seed's augmentation.
ROTATION_FACTOR, ZOOM_FACTOR = 0.3, 0.2


def final_side(size):
    side = size
    for _ in STAGES:
        side = side - KERNEL + 1
        if side < POOL:
            return 0
        side = (side - POOL) // POOL + 1
    return side


def min_image_size():
    s = 1
    while final_side(s) == 0:
        s += 1
    return s


# ---- The model ------------------------------------------------------------------------------

class SeedCNN(nn.Module):
    def __init__(self, image_size):
        super().__init__()
        convs, drops, c_in = [], [], 3
        for filters, dropout in STAGES:
            convs.append(nn.Conv2d(c_in, filters, KERNEL))  # valid padding, stride 1
            drops.append(dropout)
            c_in = filters
        self.convs = nn.ModuleList(convs)
        self.conv_dropout = drops
        side = final_side(image_size)
        self.dense1 = nn.Linear(c_in * side * side, HIDDEN)
        self.dense2 = nn.Linear(HIDDEN, 1)

    def forward(self, x):
        for conv, dropout in zip(self.convs, self.conv_dropout):
            x = F.relu(conv(x))
            if dropout:
                x = F.dropout(x, DROPOUT, self.training)
            x = F.max_pool2d(x, POOL)
        # Keras flattens (h, w, c): NCHW -> NHWC first, so dense1's kernel (out, h*w*c) has the
        # layout of Keras's (and gcbench's) kernel, transposed.
        x = x.permute(0, 2, 3, 1).flatten(1)
        x = F.dropout(x, DROPOUT, self.training)
        x = F.relu(self.dense1(x))
        return self.dense2(x).squeeze(1)  # the logit

    def layers_in_order(self):
        return list(self.convs) + [self.dense1, self.dense2]


def keras_fans(w):
    """Keras's fans: receptive field x channels. torch kernels are (out, in, kh, kw) / (out, in)."""
    receptive = w[0][0].numel() if w.dim() > 2 else 1
    return w.shape[1] * receptive, w.shape[0] * receptive


def init_keras(model, seed):
    """Glorot-uniform kernels (limit sqrt(6/(fan_in+fan_out))), zero biases, from a torch
    generator seeded with `seed`, layer by layer."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.layers_in_order():
            fan_in, fan_out = keras_fans(layer.weight)
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            w = torch.rand(layer.weight.shape, generator=g, dtype=torch.float32) * (2 * limit) - limit
            layer.weight.copy_(w)
            layer.bias.zero_()


# gcbench's counter-based generator (engine/base/rng.h), to reproduce its initial weights.
_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix_int(z):
    z &= _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _rng_key(seed, stream, a, b):
    k = _mix_int(seed + _GOLDEN)
    k = _mix_int(k ^ ((stream * _GOLDEN) & _M64))
    k = _mix_int(k ^ _mix_int(a + 0x1234567))
    return _mix_int(k ^ _mix_int(b + 0x89ABCDEF))


def _rng_uniform_array(key, count):
    """rng_uniform(key, k) for k in [0, count): float32 in [0, 1) with 24 random bits."""
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (np.arange(count, dtype=np.uint64) + np.uint64(1)) * np.uint64(_GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


RNG_STREAM_INIT = 1


def init_gcbench(model, seed):
    """gcbench's params_init: parameter tensors numbered in layer order (kernel, bias, kernel,
    bias, ...); kernel i gets rng_range(key(seed, INIT, i, 0), k, -limit, limit) for element
    k of its (out, in[, kh, kw]) layout, which is torch's. lo + (hi - lo) * u is evaluated
    in float32 with two roundings, as gcbench's release build does (no -march, so no FMA
    contraction); --checksum prints the checksum to hold against gcbench's run_start record."""
    with torch.no_grad():
        for n, layer in enumerate(model.layers_in_order()):
            fan_in, fan_out = keras_fans(layer.weight)
            limit = np.sqrt(np.float32(6.0) / np.float32(fan_in + fan_out), dtype=np.float32)
            u = _rng_uniform_array(_rng_key(seed, RNG_STREAM_INIT, 2 * n, 0), layer.weight.numel())
            w = (-limit) + (np.float32(2) * limit) * u  # float32 throughout
            layer.weight.copy_(torch.from_numpy(w).reshape(layer.weight.shape))
            layer.bias.zero_()


def gcbench_checksum(model):
    """gcbench's init_checksum: FNV-1a over its flat parameter buffer (each tensor padded with
    zeros to a multiple of 16 floats), in its order: kernel, bias per layer."""
    parts = []
    for layer in model.layers_in_order():
        for t in (layer.weight, layer.bias):
            a = t.detach().contiguous().numpy().astype(np.float32).ravel()
            pad = (-a.size) % 16
            parts.append(a)
            if pad:
                parts.append(np.zeros(pad, np.float32))
    data = np.concatenate(parts).tobytes()
    h = 0xCBF29CE484222325
    # FNV-1a is sequential; do it in Python over the bytes (a few MB at most at 96x96; about
    # 7 MB at 300x300, a few seconds).
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & _M64
    return "%016x" % h


# ---- The optimizer --------------------------------------------------------------------------

class KerasRMSprop(torch.optim.Optimizer):
    """Keras's RMSprop (no momentum, not centered): v = rho v + (1 - rho) g^2;
    w -= lr g / sqrt(v + eps); v starts at 0. torch.optim.RMSprop puts eps outside the sqrt.

    gc: None, "all" (every parameter of rank > 1) or "conv" (rank 4 only): the gradient minus
    its mean over every dim but dim 0 (the output unit), before the update; biases untouched."""

    def __init__(self, params, lr=1e-4, rho=0.9, eps=1e-7, gc=None):
        if gc not in (None, "all", "conv"):
            raise ValueError("gc must be None, 'all' or 'conv'")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, gc=gc))

    @staticmethod
    def centralizes(p, scope):
        if scope is None or p.dim() < 2:
            return False
        return scope == "all" or (scope == "conv" and p.dim() == 4)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, rho, eps, scope = group["lr"], group["rho"], group["eps"], group["gc"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if self.centralizes(p, scope):
                    g = g - g.mean(dim=tuple(range(1, g.dim())), keepdim=True)
                state = self.state[p]
                if "v" not in state:
                    state["v"] = torch.zeros_like(p)
                v = state["v"]
                v.mul_(rho).addcmul_(g, g, value=1.0 - rho)
                p.addcdiv_(g, (v + eps).sqrt_(), value=-lr)
        return loss


# ---- Data -----------------------------------------------------------------------------------

def decode_rgb(path):
    """8-bit RGB like gcbench's libpng decoder: gray -> RGB, alpha (and tRNS) dropped,
    16-bit -> high byte."""
    with Image.open(path) as im:
        im.load()
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit gray
            a = np.asarray(im, dtype=np.uint32) >> 8
            a = np.clip(a, 0, 255).astype(np.uint8)
            return np.repeat(a[:, :, None], 3, axis=2)
        if im.mode != "RGB":
            im = im.convert("RGBA" if ("A" in im.mode or "transparency" in im.info) else "RGB")
        a = np.asarray(im, dtype=np.uint8)
    return np.ascontiguousarray(a[:, :, :3])


def resize_tf_bilinear(batch_hwc, size):
    """uint8 (n, h, w, 3) -> uint8 (n, 3, size, size): bilinear with half-pixel centres and no
    antialias (TensorFlow's tf.image.resize bilinear, gcbench's io/input/resize.c), rounded half up
    and clamped to [0, 255] as gcbench does."""
    x = torch.from_numpy(batch_hwc).permute(0, 3, 1, 2).float()
    if x.shape[2] != size or x.shape[3] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return torch.floor(x + 0.5).clamp_(0, 255).to(torch.uint8).contiguous()


def sorted_names(folder):
    names = [n for n in os.listdir(folder) if not n.startswith(".")]
    return sorted(names, key=os.fsencode)  # byte-wise, like gcbench


def load_folder(root, size):
    """root/<class>/*.png -> (uint8 images (n, 3, size, size), int labels (n,), class names)."""
    classes = [c for c in sorted_names(root) if os.path.isdir(os.path.join(root, c))]
    if len(classes) < 2:
        raise SystemExit("torch_peer: error: %s: need at least two class folders" % root)
    paths, labels = [], []
    for label, c in enumerate(classes):
        d = os.path.join(root, c)
        files = [f for f in sorted_names(d) if f.lower().endswith(".png")
                 and not os.path.isdir(os.path.join(d, f))]
        if not files:
            raise SystemExit("torch_peer: error: %s: class folder has no PNG files" % d)
        paths += [os.path.join(d, f) for f in files]
        labels += [label] * len(files)
    images = torch.empty((len(paths), 3, size, size), dtype=torch.uint8)
    # Resize in chunks of images of the same source shape.
    chunk, start = [], 0
    def flush():
        nonlocal chunk, start
        if chunk:
            images[start:start + len(chunk)] = resize_tf_bilinear(np.stack(chunk), size)
            start += len(chunk)
            chunk = []
    for p in paths:
        a = decode_rgb(p)
        if chunk and (a.shape != chunk[0].shape or len(chunk) == 256):
            flush()
        chunk.append(a)
    flush()
    return images, torch.tensor(labels, dtype=torch.long), classes


def synthetic(n, size, seed):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    labels = torch.randint(0, 2, (n,), generator=g, dtype=torch.long)
    return images, labels


# ---- Augmentation ---------------------------------------------------------------------------

def augment(x, g, two_reflects=False):
    """The seed's augmentation, one affine warp per image: independent horizontal and vertical
    flips (p = 0.5 each), rotation by U(-0.3, 0.3) * 2 pi about the centre, zoom by U(0.8, 1.2)
    about the centre (input = c + zoom * (output - c): > 1 zooms out), reflect fill, bilinear.

    theta maps output to input in normalized coordinates, = Flip * Rot(angle) * zoom as in
    gcbench's io/input/augment.c (square images: a rotation in pixel units is the same rotation in
    normalized units). grid_sample's padding_mode="reflection" with align_corners=False mirrors
    about the outer pixel edges (-0.5 and len - 0.5 in pixel units) and then clamps to
    [0, len - 1]: that is exactly TensorFlow's fill_mode="reflect" (d c b a | a b c d) as its
    MapCoordinate<FILL_REFLECT> computes it, including the clamp that makes (-1, 0) read the
    edge pixel.
    Where it differs from TF/Keras (and from gcbench): Keras warps twice, rotation then zoom,
    each with its own reflect; where zooming out samples outside the frame, Keras mirrors the
    already rotated image across the frame edge. gcbench reproduces that middle reflect; one
    affine grid cannot, so here the outer band shows the mirror of the input image instead.
    That only happens when zoom > 1 and the angle is not 0, but then the band is large: at
    zoom 1.2 and 1 radian a third of the pixels differ (a 64x64 check against gcbench's
    augment_warp_ref; every other case agrees to 0.001/255, see augment_check.py).
    two_reflects=True (--augment-keras) builds the grid explicitly with that middle reflect
    and matches gcbench's warp to float rounding. Both interpolate once (as gcbench; Keras
    resamples twice)."""
    n = x.shape[0]
    r = torch.rand((n, 4), generator=g, dtype=torch.float64)
    max_angle = ROTATION_FACTOR * 2.0 * math.pi
    return warp(x, r[:, 0] < 0.5, r[:, 1] < 0.5, -max_angle + 2.0 * max_angle * r[:, 2],
                1.0 - ZOOM_FACTOR + 2.0 * ZOOM_FACTOR * r[:, 3], two_reflects)


def reflect_tf(x, n):
    """TensorFlow's MapCoordinate<FILL_REFLECT> on pixel coordinates: period 2n,
    (d c b a | a b c d), then clamped to [0, n - 1]."""
    y = torch.remainder(x, 2.0 * n)
    y = torch.where(y >= n, 2.0 * n - 1.0 - y, y)
    return y.clamp(0.0, n - 1.0)


def warp(x, flip_h, flip_v, angle, zoom, two_reflects=False):
    """x (n, c, s, s) float; per image: flip_h, flip_v (bool), angle (radians, > 0 turns the
    content counter-clockwise on screen, as Keras), zoom (input distance per output distance).
    theta maps output to input: input - c = Flip Rot(angle) zoom (output - c).
    two_reflects: Keras's geometry exactly (as gcbench): the zoom stage's point is reflected
    into the frame before the rotation maps it, which needs an explicit grid instead of
    affine_grid; checked against gcbench's augment_warp_ref to float rounding."""
    if x.shape[2] != x.shape[3]:
        raise ValueError("augment: square images only")
    if two_reflects:
        return warp_two_reflects(x, flip_h, flip_v, angle, zoom)
    sh = torch.where(torch.as_tensor(flip_h), -1.0, 1.0).double()
    sv = torch.where(torch.as_tensor(flip_v), -1.0, 1.0).double()
    angle, zoom = torch.as_tensor(angle, dtype=torch.float64), torch.as_tensor(zoom, dtype=torch.float64)
    c, s = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros((x.shape[0], 2, 3), dtype=torch.float64)
    theta[:, 0, 0] = sh * c * zoom
    theta[:, 0, 1] = -sh * s * zoom
    theta[:, 1, 0] = sv * s * zoom
    theta[:, 1, 1] = sv * c * zoom
    grid = F.affine_grid(theta.float(), list(x.shape), align_corners=False)
    return F.grid_sample(x.contiguous(), grid, mode="bilinear", padding_mode="reflection",
                         align_corners=False)


def warp_two_reflects(x, flip_h, flip_v, angle, zoom):
    """q = c + zoom (p - c), reflected into the frame (Keras's zoom layer); then
    r = c + Flip Rot (q - c), reflected by grid_sample (Keras's rotation layer); pixel units."""
    n, s = x.shape[0], x.shape[2]
    sh = torch.where(torch.as_tensor(flip_h), -1.0, 1.0).double().view(n, 1, 1)
    sv = torch.where(torch.as_tensor(flip_v), -1.0, 1.0).double().view(n, 1, 1)
    angle = torch.as_tensor(angle, dtype=torch.float64).view(n, 1, 1)
    zoom = torch.as_tensor(zoom, dtype=torch.float64).view(n, 1, 1)
    c = 0.5 * (s - 1)
    ys, xs = torch.meshgrid(torch.arange(s, dtype=torch.float64), torch.arange(s, dtype=torch.float64),
                            indexing="ij")
    qx = reflect_tf(c + zoom * (xs - c), s) - c
    qy = reflect_tf(c + zoom * (ys - c), s) - c
    co, si = torch.cos(angle), torch.sin(angle)
    rx = c + sh * (co * qx - si * qy)
    ry = c + sv * (si * qx + co * qy)
    grid = torch.stack([(2.0 * rx + 1.0) / s - 1.0, (2.0 * ry + 1.0) / s - 1.0], dim=-1).float()
    return F.grid_sample(x.contiguous(), grid, mode="bilinear", padding_mode="reflection",
                         align_corners=False)


# ---- Training -------------------------------------------------------------------------------

def run_epoch(model, images, labels, batch, opt=None, order=None, aug_gen=None, channels_last=False,
              two_reflects=False):
    """One pass; with opt, trains. Returns (mean loss, accuracy) over the images."""
    n = images.shape[0]
    loss_sum, correct = 0.0, 0
    for start in range(0, n, batch):
        idx = order[start:start + batch] if order is not None else slice(start, start + batch)
        xb = images[idx].float().mul_(1.0 / 255.0)
        yb = labels[idx]
        if aug_gen is not None:
            xb = augment(xb, aug_gen, two_reflects)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        if opt is not None:
            logits = model(xb)
            loss = F.binary_cross_entropy_with_logits(logits, yb.float())
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                logits = model(xb)
                loss = F.binary_cross_entropy_with_logits(logits, yb.float())
        b = yb.shape[0]
        loss_sum += loss.item() * b
        correct += int(((logits.detach() > 0).long() == yb).sum())
    return loss_sum / n, correct / n


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def emit(obj, log, log_obj=None):
    """obj on stdout; log_obj (obj when None) into the log, flushed so a killed run keeps it."""
    print(json.dumps(obj), flush=True)
    if log:
        log.write(json.dumps(obj if log_obj is None else log_obj) + "\n")
        log.flush()


def train_run(name, scope, model, init_state, data, args, log, seed, checksum=None):
    train_x, train_y, val_x, val_y = data
    model.load_state_dict(init_state)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    if log:  # gcbench's run_start record, with the seed of the pair
        start = {"event": "run_start", "run": name, "gc_scope": scope, "seed": seed, "init": args.init}
        if checksum:
            start["init_checksum"] = checksum
        log.write(json.dumps(start) + "\n")
    # Every random stream restarts per run: same shuffles, augmentation and dropout masks.
    torch.manual_seed(seed + 1000)  # dropout (the global generator)
    shuffle_gen = torch.Generator().manual_seed(seed + 2000)
    aug_gen = torch.Generator().manual_seed(seed + 3000) if args.augment else None
    opt = KerasRMSprop(model.parameters(), lr=args.lr, rho=0.9, eps=1e-7, gc=scope)
    n = train_x.shape[0]
    ips, total = [], 0.0
    last = {}
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=shuffle_gen)
        loss, acc = run_epoch(model, train_x, train_y, args.batch, opt, order, aug_gen, args.channels_last,
                              args.augment_keras)
        t1 = time.perf_counter()
        if val_x is not None and val_x.shape[0]:
            model.eval()
            val_loss, val_acc = run_epoch(model, val_x, val_y, args.batch, channels_last=args.channels_last)
        else:
            val_loss = val_acc = None
        t2 = time.perf_counter()
        rec = {"event": "epoch", "run": name, "seed": seed, "epoch": epoch, "loss": loss, "accuracy": acc, "val_loss": val_loss,
               "val_accuracy": val_acc, "seconds": t2 - t0, "train_seconds": t1 - t0,
               "val_seconds": t2 - t1, "images_per_second": n / (t1 - t0)}
        emit(rec, log)
        ips.append(rec["images_per_second"])
        total += rec["seconds"]
        last = rec
        vtxt = ("val_loss %.4f val_acc %.4f" % (val_loss, val_acc)) if val_loss is not None else "no validation"
        print("%-8s epoch %2d/%d  loss %.4f acc %.4f  %s  %.1f s (train %.1f s, %.1f img/s)"
              % (name, epoch, args.epochs, loss, acc, vtxt, rec["seconds"], rec["train_seconds"],
                 rec["images_per_second"]), file=sys.stderr, flush=True)
    later = ips[1:] if len(ips) > 1 else ips
    summary = {"run": name, "gc_scope": scope, "loss": last["loss"], "accuracy": last["accuracy"],
               "val_loss": last["val_loss"], "val_accuracy": last["val_accuracy"],
               "train_seconds": total, "images_per_second": statistics.median(later),
               "images_per_second_min": min(later), "images_per_second_max": max(later),
               "epochs": args.epochs, "peak_rss_mib": peak_rss_mib()}
    emit({"summary": summary}, log, dict({"event": "summary", "seed": seed}, **summary))
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description="gcbench's experiment in PyTorch (see the module docstring).")
    runs = ap.add_mutually_exclusive_group()
    runs.add_argument("--compare", action="store_const", dest="runs", const="compare",
                      help="baseline, then GC, from identical initial weights (default)")
    runs.add_argument("--gc", action="store_const", dest="runs", const="gc", help="only the GC run")
    runs.add_argument("--no-gc", action="store_const", dest="runs", const="baseline", help="only the baseline run")
    ap.add_argument("--gc-scope", choices=["all", "conv"], default="all")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="DIR", help="DIR/train/<class>/*.png and DIR/validation/<class>/*.png")
    src.add_argument("--synthetic", action="store_true", help="random uint8 images (speed runs)")
    ap.add_argument("--image-size", type=int, default=300)
    ap.add_argument("--train-images", type=int, default=1027, help="synthetic training images (1027)")
    ap.add_argument("--val-images", type=int, default=256, help="synthetic validation images (256; 0: none)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--seeds", type=int, default=1, metavar="N",
                    help="paired study: a --compare at each of the seeds --seed .. --seed+N-1 (the synthetic "
                         "images stay those of --seed); --log then holds gcbench's records, which "
                         "benchmarks' study_log turns into gcbench's study tables and charts")
    ap.add_argument("--init", choices=["keras", "gcbench"], default="keras",
                    help="Glorot draws from torch's generator (keras) or gcbench's exact weights (gcbench)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--channels-last", action="store_true", help="model and input in channels_last")
    ap.add_argument("--augment", action="store_true",
                    help="the seed's flips, rotation and zoom, one affine grid per image (off by default)")
    ap.add_argument("--augment-keras", action="store_true",
                    help="--augment with Keras's (and gcbench's) exact geometry: the zoom stage reflected "
                         "before the rotation")
    ap.add_argument("--log", metavar="FILE", help="also write the JSON lines to FILE")
    ap.add_argument("--checksum", action="store_true",
                    help="print gcbench's init_checksum of the initial weights (slow-ish in Python)")
    args = ap.parse_args(argv)
    args.augment = args.augment or args.augment_keras
    runs = args.runs or "compare"
    if args.image_size < min_image_size():
        ap.error("--image-size: %d is too small; the smallest valid size is %d" % (args.image_size, min_image_size()))
    if args.seeds > 1 and runs != "compare":
        ap.error("--seeds runs both runs of each seed; it does not take --gc or --no-gc")
    for flag in ("epochs", "batch", "train_images", "seeds"):
        if getattr(args, flag) < 1:
            ap.error("--%s must be positive" % flag.replace("_", "-"))
    if args.threads:
        torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    if args.data:
        train_x, train_y, classes = load_folder(os.path.join(args.data, "train"), args.image_size)
        val_x, val_y, vclasses = load_folder(os.path.join(args.data, "validation"), args.image_size)
        if vclasses != classes:
            raise SystemExit("torch_peer: error: validation classes %s differ from train classes %s" % (vclasses, classes))
        if len(classes) != 2:
            raise SystemExit("torch_peer: error: the model is binary; %d classes found" % len(classes))
        dataset = args.data
    else:
        train_x, train_y = synthetic(args.train_images, args.image_size, args.seed)
        val_x, val_y = (synthetic(args.val_images, args.image_size, args.seed + 1) if args.val_images > 0
                        else (None, None))
        classes, dataset = ["0", "1"], "synthetic"
    load_seconds = time.perf_counter() - t0

    model = SeedCNN(args.image_size)
    log = open(args.log, "w") if args.log else None
    config = {"event": "config", "torch": torch.__version__, "threads": torch.get_num_threads(),
              "onednn": torch.backends.mkldnn.is_available(), "channels_last": args.channels_last,
              "batch": args.batch, "epochs": args.epochs, "image_size": args.image_size,
              "train_images": int(train_x.shape[0]), "val_images": int(val_x.shape[0]) if val_x is not None else 0,
              "classes": classes, "seed": args.seed, "dataset": dataset, "runs": runs,
              "gc_scope": args.gc_scope, "lr": args.lr, "rho": 0.9, "epsilon": 1e-7, "augment": ("keras" if args.augment_keras else "affine") if args.augment else False,
              "init": args.init, "params": sum(p.numel() for p in model.parameters()),
              "load_seconds": load_seconds, "seeds": args.seeds}
    if args.checksum:  # of the first seed's weights; each run_start has its own seed's
        (init_gcbench if args.init == "gcbench" else init_keras)(model, args.seed)
        config["init_checksum"] = gcbench_checksum(model)
    print(json.dumps(config), file=sys.stderr, flush=True)
    if log:
        log.write(json.dumps(config) + "\n")

    data = (train_x, train_y, val_x, val_y)
    for seed in range(args.seed, args.seed + args.seeds):
        (init_gcbench if args.init == "gcbench" else init_keras)(model, seed)
        init_state = {k: v.clone() for k, v in model.state_dict().items()}
        checksum = gcbench_checksum(model) if args.checksum else None
        if runs in ("compare", "baseline"):
            train_run("baseline", None, model, init_state, data, args, log, seed, checksum)
        if runs in ("compare", "gc"):
            train_run("gc", args.gc_scope, model, init_state, data, args, log, seed, checksum)
    if log:
        log.close()


if __name__ == "__main__":
    main()
