#!/usr/bin/python3
"""Two Fashion-MNIST classes as PNG class folders in gcbench's --data layout.

    OUT/train/<class>/NNNNN.png        from the training split (train-*-ubyte.gz)
    OUT/validation/<class>/NNNNN.png   from the test split     (t10k-*-ubyte.gz)

The images are written as they are in the files: 28x28, 8-bit grayscale. gcbench (and
torch_peer.py) convert gray to RGB and resize to --image-size themselves.

Selection is deterministic: the first N images of each class in file order. NNNNN is the
image's index in its split, so a file name says where the image came from; sorted file
names are file order.

The default pair is sandal (5) vs sneaker (7): both are low shoes seen from the side, so
the outline alone does not separate them, but a sandal is straps and holes and a sneaker a
solid upper, so there is signal a small CNN can find. Measured with gcbench (seed 1, no
augmentation, 96x96, 2 x 1000 training images, 10 epochs of RMSprop at lr 1e-4), final
validation accuracy per candidate pair:
    pullover vs coat      0.61  (hardly learns in 10 epochs: too hard for this budget)
    t-shirt_top vs shirt  0.78  (stuck at 0.78 from epoch 3 on)
    t-shirt_top vs dress  0.80
    sandal vs sneaker     0.88  (0.69 after epoch 1, still rising: the default)
    t-shirt_top vs pullover 0.92 (0.87 after epoch 1: little left to learn)
Sandal vs sneaker lands well inside 75-98% and still moves epoch to epoch, so a difference
between two engines (or GC's effect) has room to show. Label order is the sorted folder
names: sandal = 0, sneaker = 1.

Usage:
    /usr/bin/python3 benchmarks/peers/fashion_mnist_png.py --out /tmp/fmnist2
    /usr/bin/python3 benchmarks/peers/fashion_mnist_png.py --out /tmp/ts --classes pullover coat
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np
from PIL import Image

DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"

# Fashion-MNIST's label names (index = label), made filename-safe.
CLASS_NAMES = ["t-shirt_top", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle_boot"]
# Other spellings accepted on the command line.
ALIASES = {"t-shirt": 0, "tshirt": 0, "top": 0, "t-shirt/top": 0, "tshirt_top": 0,
           "trousers": 1, "ankle-boot": 9, "ankle boot": 9, "boot": 9}


def class_index(text):
    t = text.strip().lower()
    if t.isdigit() and 0 <= int(t) < len(CLASS_NAMES):
        return int(t)
    if t in CLASS_NAMES:
        return CLASS_NAMES.index(t)
    if t in ALIASES:
        return ALIASES[t]
    t2 = t.replace(" ", "_").replace("/", "_")
    if t2 in CLASS_NAMES:
        return CLASS_NAMES.index(t2)
    raise argparse.ArgumentTypeError(
        "'%s' is not a Fashion-MNIST class (0-9 or one of %s)" % (text, ", ".join(CLASS_NAMES)))


def read_idx(path, magic_expected):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic != magic_expected:
        raise ValueError("%s: magic %#x, expected %#x" % (path, magic, magic_expected))
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError("%s: %d bytes of data for shape %s" % (path, arr.size, dims))
    return arr.reshape(dims)


def load_split(source, prefix):
    images = read_idx(os.path.join(source, prefix + "-images-idx3-ubyte.gz"), 0x00000803)
    labels = read_idx(os.path.join(source, prefix + "-labels-idx1-ubyte.gz"), 0x00000801)
    if len(images) != len(labels):
        raise ValueError("%s: %d images but %d labels" % (prefix, len(images), len(labels)))
    return images, labels


def export(images, labels, classes, per_class, out_dir):
    counts = {}
    for c in classes:
        idx = np.flatnonzero(labels == c)[:per_class]
        if len(idx) < per_class:
            raise ValueError("class %s has only %d images, %d asked"
                             % (CLASS_NAMES[c], len(idx), per_class))
        folder = os.path.join(out_dir, CLASS_NAMES[c])
        os.makedirs(folder, exist_ok=True)
        for i in idx:
            Image.fromarray(images[i], mode="L").save(os.path.join(folder, "%05d.png" % i))
        counts[CLASS_NAMES[c]] = len(idx)
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (gets train/ and validation/)")
    ap.add_argument("--classes", nargs=2, type=class_index, default=[5, 7], metavar="CLASS",
                    help="two class names or indices (default: sandal sneaker)")
    ap.add_argument("--train-per-class", type=int, default=1000)
    ap.add_argument("--val-per-class", type=int, default=500)
    ap.add_argument("--source", default=DEFAULT_SOURCE,
                    help="folder with the *-ubyte.gz files (default %s)" % DEFAULT_SOURCE)
    args = ap.parse_args(argv)
    if args.classes[0] == args.classes[1]:
        ap.error("--classes: the two classes must differ")
    if args.train_per_class < 1 or args.val_per_class < 1:
        ap.error("--train-per-class and --val-per-class must be positive")
    for split in ("train", "validation"):
        d = os.path.join(args.out, split)
        if os.path.isdir(d) and os.listdir(d):
            ap.error("%s exists and is not empty; remove it first "
                     "(stale class folders would become extra classes)" % d)

    tr_x, tr_y = load_split(args.source, "train")
    te_x, te_y = load_split(args.source, "t10k")
    ntr = export(tr_x, tr_y, args.classes, args.train_per_class, os.path.join(args.out, "train"))
    nva = export(te_x, te_y, args.classes, args.val_per_class, os.path.join(args.out, "validation"))
    names = sorted(CLASS_NAMES[c] for c in args.classes)
    print("%s: train %s, validation %s; labels: %s=0, %s=1"
          % (args.out, ntr, nva, names[0], names[1]), file=sys.stderr)


if __name__ == "__main__":
    main()
