#!/usr/bin/env python3
"""PyTorch half of bench/int8.sh: loads the MLPs Kiln trained (safetensors, state-dict names),
quantizes them with torch.quantization.quantize_dynamic(model, {Linear}, dtype=qint8), and prints
test accuracy and inference speed of the f32 and int8 forms at batch 1, 32 and 256, timed as
Kiln's Int8Inference times its own: median seconds per forward on test images in memory.
Usage: pytorch_int8.py WEIGHTS_DIR [seconds per measurement]
"""
import json
import os
import struct
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # as bench/pytorch_mlp.py: see there

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_mlp import load  # noqa: E402  the same IDX reader and data lookup

BATCHES = (1, 32, 256)
DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        lo, hi = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(body[lo:hi], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).copy())
    return out


def mlp(hidden):
    layers, width = [nn.Flatten()], 28 * 28
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def accuracy(model, x, y):
    with torch.inference_mode():
        return sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000)) / len(x)


def seconds_per_call(model, x, seconds):
    with torch.inference_mode():
        for _ in range(20):
            model(x)
        t, end = [], time.perf_counter() + seconds
        while len(t) < 10 or time.perf_counter() < end:
            start = time.perf_counter()
            model(x)
            t.append(time.perf_counter() - start)
    return sorted(t)[len(t) // 2]


def main():
    weights, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    engines = torch.backends.quantized.supported_engines
    engine = next((e for e in ("fbgemm", "onednn", "x86", "qnnpack") if e in engines), None)
    if engine is None:
        sys.exit(f"torch {torch.__version__} has no quantized engine ({engines})")
    torch.backends.quantized.engine = engine
    print(f"torch {torch.__version__}, quantized engine {engine} (of {engines}), threads {torch.get_num_threads()}", flush=True)
    x, y, _ = load(None, "test")
    for name, hidden in (("wide", (1024, 1024)), ("seed", (128,))):
        model = mlp(hidden)
        model.load_state_dict(read_safetensors(os.path.join(weights, name + ".safetensors")))
        model.eval()
        int8 = torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
        print(f"pytorch fp32 {name} accuracy: {accuracy(model, x, y):.4f}")
        print(f"pytorch int8 {name} accuracy: {accuracy(int8, x, y):.4f}")
        for b in BATCHES:
            for kind, m in (("fp32", model), ("int8", int8)):
                s = seconds_per_call(m, x[:b].contiguous(), seconds)
                print(f"pytorch {kind} {name} batch {b}: {b / s:.0f} samples/s, median latency {s * 1e6:.1f} us", flush=True)


if __name__ == "__main__":
    main()
