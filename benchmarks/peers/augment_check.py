#!/usr/bin/python3
"""torch_peer.py's augmentation against gcbench's own (io/input/augment.c, augment_warp_ref: the
double-precision reference of its warp), on the same image and the same parameters.

    /usr/bin/python3 benchmarks/peers/augment_check.py

Compiles io/input/augment.c into a temporary shared library (gcc) and calls it through ctypes.
Prints, per case, the largest difference in 1/255 units for the one-affine-grid warp
(--augment) and the two-reflect warp (--augment-keras). Exit status 1 when the two-reflect
warp differs by more than 0.01/255 anywhere, or the affine warp does in a case where it
should agree (no rotation, or no zoom-out).
"""
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer as tp  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Params(ctypes.Structure):  # io/input/augment.h's augment_params
    _fields_ = [("flip_h", ctypes.c_bool), ("flip_v", ctypes.c_bool),
                ("angle", ctypes.c_double), ("zoom", ctypes.c_double)]


CASES = [(0, 0, 0.0, 1.0), (1, 0, 0.0, 1.0), (0, 1, 0.0, 1.0), (1, 1, 0.0, 1.0), (0, 0, 0.5, 1.0),
         (0, 0, -1.2, 0.85), (1, 1, 0.3, 0.9), (0, 0, 0.0, 1.15), (0, 1, 1.8, 0.8),
         (1, 0, 1.0, 1.2), (0, 0, -0.4, 1.05), (1, 1, 1.88, 1.19)]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        so = os.path.join(tmp, "libaugment.so")
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-I", ROOT, os.path.join(ROOT, "io", "augment.c"),
                        "-o", so, "-lm"], check=True)
        lib = ctypes.CDLL(so)
        ok = True
        rng = np.random.default_rng(0)
        s = 64
        yy, xx = np.mgrid[0:s, 0:s]
        images = {"noise": rng.integers(0, 256, (s, s, 3), dtype=np.uint8),
                  "ramps": np.stack([(xx * 4) % 256, (yy * 4) % 256, ((xx + yy) * 2) % 256], -1).astype(np.uint8)}
        print("%-6s %-18s %12s %12s %16s" % ("image", "fh fv angle zoom", "keras max", "affine max",
                                            "affine px > 0.5"))
        for name, im in images.items():
            x = torch.from_numpy(im).permute(2, 0, 1)[None].float() / 255.0
            for fh, fv, angle, zoom in CASES:
                out = np.zeros(3 * s * s, np.float32)
                lib.augment_warp_ref(im.ctypes.data_as(ctypes.c_void_p), s, s, 3,
                                     ctypes.byref(Params(bool(fh), bool(fv), angle, zoom)),
                                     out.ctypes.data_as(ctypes.c_void_p), ctypes.c_bool(True))
                ref = out.reshape(3, s, s)
                d2 = np.abs(tp.warp(x, [bool(fh)], [bool(fv)], [angle], [zoom], True)[0].numpy() - ref) * 255
                d1 = np.abs(tp.warp(x, [bool(fh)], [bool(fv)], [angle], [zoom], False)[0].numpy() - ref) * 255
                should_agree = angle == 0.0 or zoom <= 1.0
                ok &= d2.max() < 0.01 and (d1.max() < 0.01 or not should_agree)
                print("%-6s  %d  %d %+5.2f %4.2f  %12.4f %12.4f %15.1f%%" % (
                    name, fh, fv, angle, zoom, d2.max(), d1.max(), 100.0 * (d1 > 0.5).mean()))
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
