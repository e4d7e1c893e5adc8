#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz: corpus/png (one tiny PNG per colour type, bit depth,
filter and interlacing variant), corpus/cli (argument lists, NUL-separated) and, given a gcbench
binary, corpus/checkpoint (checkpoints of the configuration fuzz_checkpoint loads).

    python3 tests/fuzz/make_corpus.py [--gcbench build/release/gcbench]

Deterministic, except for the timings that a checkpoint records."""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- PNG ------------------------------------------------------------------------------------

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc, bits = acc << depth | s, bits + depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filter_row(kind, row, prev, bpp):
    out = bytearray([kind])
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i] if prev else 0
        c = prev[i - bpp] if prev and i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((x - pred) & 0xFF)
    return bytes(out)


def scanlines(w, h, colour, depth, sample, passes):
    """Filtered scanlines of every pass; row y of a pass uses filter y % 5 (all five)."""
    bpp = max(1, CHANNELS[colour] * depth // 8)
    out = bytearray()
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, w, dx), range(y0, h, dy)
        if not xs or not ys:
            continue
        prev = None
        for n, y in enumerate(ys):
            row = pack_row([sample(x, y, c) for x in xs for c in range(CHANNELS[colour])], depth)
            out += filter_row(n % 5, row, prev, bpp)
            prev = row
    return bytes(out)


def png(w, h, colour, depth, interlace=0, plte=None, trns=None, extra=b""):
    top = (1 << depth) - 1
    def sample(x, y, c):  # a gradient with some texture, within the sample range
        return ((x * 37 + y * 91 + c * 53) * (top + 1) // 256 + (x ^ y)) % (top + 1)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if plte:
        data += chunk(b"PLTE", plte)
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += extra
    data += chunk(b"IDAT", zlib.compress(scanlines(w, h, colour, depth, sample, passes), 9))
    return data + chunk(b"IEND", b"")


def png_corpus():
    palette = bytes(v for i in range(16) for v in (i * 16, 255 - i * 16, (i * 53) & 255))
    text = chunk(b"tEXt", b"Comment\0gcbench fuzz seed") + chunk(b"gAMA", struct.pack(">I", 45455))
    ztxt = chunk(b"zTXt", b"Title\0\0" + zlib.compress(b"rings and asterisks"))
    return {
        "gray1.png": png(9, 7, 0, 1),
        "gray2_interlaced.png": png(11, 9, 0, 2, interlace=1),
        "gray8.png": png(9, 7, 0, 8, extra=text),
        "gray16_trns.png": png(7, 5, 0, 16, trns=struct.pack(">H", 1000)),
        "gray_alpha8.png": png(6, 5, 4, 8),
        "palette4_trns.png": png(9, 7, 3, 4, plte=palette, trns=bytes(range(0, 255, 32))),
        "palette8_interlaced.png": png(11, 9, 3, 8, interlace=1, plte=palette * 16, extra=ztxt),
        "rgb8.png": png(9, 7, 2, 8),
        "rgb16_trns.png": png(5, 4, 2, 16, trns=struct.pack(">HHH", 1, 2, 3)),
        "rgb8_interlaced.png": png(13, 11, 2, 8, interlace=1),
        "rgba8.png": png(8, 6, 6, 8, extra=text),
        "rgba16_interlaced.png": png(9, 9, 6, 16, interlace=1),
        "one_pixel.png": png(1, 1, 2, 8),
    }

# ---- CLI ------------------------------------------------------------------------------------

def cli_corpus():
    lists = {
        "compare": ["--compare", "--epochs", "3", "--batch=64", "--lr", "0.001", "--seed", "7"],
        "small_checkpoint": ["--image-size", "94", "--train-images", "8", "--val-images", "4", "--batch", "4",
                             "--epochs", "2", "--checkpoint", "ck.bin"],
        "data": ["--data", "hoh", "--skip-invalid", "--report", "out", "--log", "log.jsonl", "--threads", "2",
                 "--pin", "scatter", "--gc", "--gc-scope=conv"],
        "dirs_resume": ["--train-dir", "a", "--val-dir=b", "--resume", "ck.bin", "--no-gc", "--pin=none"],
        "scaling": ["--scaling", "1,2,4,8,16", "--quiet", "--unfused", "--profile", "--no-augment",
                    "--image-size=300"],
        "help": ["--help", "-h", "--version"],
        "bad_value": ["--epochs", "0", "--lr", "-1", "--seed", "-5"],
        "missing_value": ["--image-size=93", "--log"],
    }
    return {name: b"\0".join(w.encode() for w in words) for name, words in lists.items()}

# ---- Checkpoints ----------------------------------------------------------------------------

# The configuration fuzz_checkpoint.c builds; --log and --report fill the LOG_ and HIST sections.
CONFIG = ["--image-size", "94", "--train-images", "8", "--val-images", "4", "--batch", "4", "--epochs", "2"]


def sections(data):
    """(tag, body) of each section of a checkpoint (engine/checkpoint.h)."""
    count, at, out = struct.unpack_from("<I", data, 12)[0], 32, []
    for _ in range(count):
        tag, size = struct.unpack_from("<I4xQ", data, at)
        out.append((tag, data[at + 16:at + 16 + size]))
        at += 16 + (size + 7) // 8 * 8
    return out


def container(secs):
    payload = b"".join(struct.pack("<IIQ", tag, 0, len(body)) + body + b"\0" * (-len(body) % 8)
                       for tag, body in secs)
    fnv = 0xCBF29CE484222325
    for byte in payload:
        fnv = ((fnv ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return b"GCBCKPT\n" + struct.pack("<IIQQ", 1, len(secs), len(payload), fnv) + payload


def checkpoint_corpus(gcbench):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ck.bin")
        subprocess.run([gcbench, *CONFIG, "--quiet", "--checkpoint", path, "--log", os.path.join(tmp, "log.jsonl"),
                        "--report", os.path.join(tmp, "report")], check=True, stdout=subprocess.DEVNULL)
        with open(path, "rb") as f:
            full = f.read()
    weights = {struct.unpack("<I", t)[0] for t in (b"WGHT", b"RMSV")}
    # The same without the weights: small, so mutations land on the structure; it loads up
    # to the weights' size check.
    light = container([(tag, b"" if tag in weights else body) for tag, body in sections(full)])
    return {"trained.ckpt": full, "no_weights.ckpt": light}

# ---- main -----------------------------------------------------------------------------------

def write(folder, files):
    os.makedirs(folder, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print(f"{folder}: {len(files)} files, {sum(map(len, files.values()))} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gcbench", help="a gcbench binary: also write corpus/checkpoint")
    args = ap.parse_args()
    write(os.path.join(HERE, "corpus", "png"), png_corpus())
    write(os.path.join(HERE, "corpus", "cli"), cli_corpus())
    if args.gcbench:
        write(os.path.join(HERE, "corpus", "checkpoint"), checkpoint_corpus(args.gcbench))
    return 0


if __name__ == "__main__":
    sys.exit(main())
