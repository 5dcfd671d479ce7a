#!/usr/bin/env python3
"""Writes the safetensors files Kiln's tests read, with PyTorch (Debian's python3-torch) and the
format written out by hand with struct and json: the `safetensors` package is not needed.

    /usr/bin/python3 api/src/test/resources/safetensors/make_fixtures.py

torch_mlp.safetensors    the state dict of Sequential(Flatten, Linear(6,5), ReLU, Linear(5,3))
torch_mlp_io.safetensors an input batch and that model's output for it, and one small tensor of
                         every dtype Kiln reads (values i * 0.5 - 1, exact in every float type)
"""
import json
import os
import struct

import torch

DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
          torch.uint8: "U8", torch.bool: "BOOL"}


def raw_bytes(t):
    t = t.contiguous()
    # bf16 has no numpy type; its bit pattern is the same as int16's.
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        b = raw_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(1234)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    write(os.path.join(here, "torch_mlp.safetensors"), dict(model.state_dict()),
          {"producer": "torch " + torch.__version__})
    x = torch.randn(4, 2, 3)
    with torch.no_grad():
        y = model(x)
    io = {"input": x, "output": y}
    ramp = torch.arange(6, dtype=torch.float64) * 0.5 - 1
    for dt, name in DTYPES.items():
        io["ramp_" + name.lower()] = (ramp if dt.is_floating_point else torch.arange(6, dtype=torch.float64)).to(dt)
    write(os.path.join(here, "torch_mlp_io.safetensors"), io)


if __name__ == "__main__":
    main()
