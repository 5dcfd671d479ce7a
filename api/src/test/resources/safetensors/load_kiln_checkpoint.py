#!/usr/bin/env python3
"""Loads a Kiln safetensors checkpoint into PyTorch with nothing but struct and json (the
`safetensors` package would do the same in one call: safetensors.torch.load_file(path)).

    python3 load_kiln_checkpoint.py WEIGHTS.safetensors IO.safetensors

WEIGHTS holds the parameters of Sequential(Flatten, Linear(6,5), ReLU, Linear(5,3)) as Kiln
names them ("1.weight", ...); optimizer tensors ("optimizer.*") are skipped. IO holds "input" and
Kiln's "output" for it. Prints the largest difference from PyTorch's output; exits 1 above 1e-5.
"""
import json
import struct
import sys

import torch

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
          "U8": torch.uint8, "BOOL": torch.bool}


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])  # little-endian, as on x86 and ARM
        t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[info["dtype"]])
        tensors[name] = t.reshape(info["shape"])
    return tensors, metadata


def main():
    weights, metadata = load(sys.argv[1])
    io, _ = load(sys.argv[2])
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    model.load_state_dict({k: v for k, v in weights.items() if not k.startswith("optimizer.")})
    with torch.no_grad():
        y = model(io["input"])
    diff = (y - io["output"]).abs().max().item()
    print("metadata", metadata)
    print("max |torch - kiln| =", diff)
    sys.exit(0 if diff <= 1e-5 else 1)


if __name__ == "__main__":
    main()
