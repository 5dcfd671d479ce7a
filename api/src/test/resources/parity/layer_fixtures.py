#!/usr/bin/env python3
"""Writes layers.safetensors, PyTorch's layers (convolutions, layer norm, pooling modes) on fixed weights and inputs, for Kiln's LayerParityTest.

    /usr/bin/python3 api/src/test/resources/parity/layer_fixtures.py

For each case <c>: the layer's state dict as <c>.<parameter>, the input <c>.x, the output <c>.y,
and the gradients of sum(<c>.w * y) with respect to the input (<c>.dx) and to each parameter
(<c>.d<parameter>). Float32 inputs and weights; PyTorch computes in float64; stored as float32.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "safetensors"))
from make_fixtures import write  # noqa: E402


def main():
    torch.manual_seed(11)
    cases = {
        "conv_rect": (nn.Conv2d(2, 3, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)), (2, 2, 7, 6)),
        "conv_t": (nn.ConvTranspose2d(3, 2, kernel_size=3, stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
        "conv_t_rect": (nn.ConvTranspose2d(4, 2, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                           groups=2, bias=False), (1, 4, 3, 4)),
        "conv_t_dilated": (nn.ConvTranspose2d(2, 3, kernel_size=2, stride=1, padding=1, dilation=2), (2, 2, 5, 5)),
        "layernorm_plain": (nn.LayerNorm(5, elementwise_affine=False), (3, 4, 5)),
        "maxpool_ceil": (nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7)),
        "avgpool_ceil": (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7)),
        "avgpool_nopad": (nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 8, 7)),
        "avgpool_ceil_nopad": (nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 5, 6)),
        "maxpool_ceil_even": (nn.MaxPool2d(2, stride=2, ceil_mode=True), (1, 2, 5, 5)),
    }
    tensors = {}
    for name, (layer, shape) in cases.items():
        layer = layer.double()
        x = torch.randn(*shape).float().double().requires_grad_(True)
        for p in layer.parameters():  # float32-representable weights, as Kiln will hold them
            p.data = p.data.float().double()
        y = layer(x)
        w = torch.randn(y.shape).float().double()
        (y * w).sum().backward()
        tensors[name + ".x"] = x.detach().float()
        tensors[name + ".y"] = y.detach().float()
        tensors[name + ".w"] = w.float()
        tensors[name + ".dx"] = x.grad.float()
        for pname, p in layer.named_parameters():
            tensors[name + "." + pname] = p.detach().float()
            tensors[name + ".d" + pname] = p.grad.float()
    write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers.safetensors"), tensors,
          {"producer": "torch " + torch.__version__})


if __name__ == "__main__":
    main()
