#!/usr/bin/env python3
"""Writes gelu.safetensors, PyTorch's GELU in both forms and erf, for Kiln's GeluParityTest.

    /usr/bin/python3 api/src/test/resources/parity/gelu_fixtures.py

x         101 points from -6 to 6 and 64 standard-normal ones (float32)
w         fixed upstream weights, so the gradients are of sum(w * f(x))
gelu      F.gelu(x) (exact) and its gradient gelu_grad
gelu_tanh F.gelu(x, approximate="tanh") and gelu_tanh_grad
erf       torch.erf(x) and erf_grad
Everything computed in float64 from the float32 inputs, then stored as float32, so the fixture is
PyTorch's definition rounded once, not PyTorch's float32 kernels.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "safetensors"))
from make_fixtures import write  # noqa: E402


def main():
    g = torch.Generator().manual_seed(13)
    x32 = torch.cat([torch.linspace(-6, 6, 101), torch.randn(64, generator=g)]).float()
    w32 = torch.randn(x32.shape, generator=g).float()
    out = {"x": x32, "w": w32}
    for name, f in [("gelu", F.gelu), ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh")), ("erf", torch.erf)]:
        x = x32.double().requires_grad_(True)
        y = f(x)
        (y * w32.double()).sum().backward()
        out[name] = y.detach().float()
        out[name + "_grad"] = x.grad.float()
    write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gelu.safetensors"), out,
          {"producer": "torch " + torch.__version__})


if __name__ == "__main__":
    main()
