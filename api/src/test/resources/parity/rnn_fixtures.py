#!/usr/bin/env python3
"""Writes rnn.safetensors, PyTorch's LSTM and GRU on fixed weights and inputs, for Kiln's RecurrentParityTest.

    /usr/bin/python3 api/src/test/resources/parity/rnn_fixtures.py

For each case <c>: the state dict as <c>.<parameter>, the input <c>.x, optional initial states
<c>.h0 / <c>.c0, the output <c>.y and final states <c>.hn / <c>.cn, and the gradients of
sum(<c>.w * y) + sum(<c>.wh * hn) with respect to the input (<c>.dx) and each parameter
(<c>.d<parameter>). Float32 values; PyTorch computes in float64.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "safetensors"))
from make_fixtures import write  # noqa: E402


def main():
    torch.manual_seed(5)
    cases = {
        "lstm": (nn.LSTM(3, 4, num_layers=2, batch_first=True), (2, 5, 3), True, False),
        "lstm_state": (nn.LSTM(3, 4), (6, 2, 3), True, True),
        "gru": (nn.GRU(3, 4, num_layers=2, batch_first=True), (2, 5, 3), False, False),
        "gru_state": (nn.GRU(2, 3), (4, 3, 2), False, True),
    }
    tensors = {}
    for name, (layer, shape, lstm, with_state) in cases.items():
        layer = layer.double()
        for p in layer.parameters():
            p.data = p.data.float().double()
        x = torch.randn(*shape).float().double().requires_grad_(True)
        batch = shape[0] if layer.batch_first else shape[1]
        state = None
        if with_state:
            h0 = torch.randn(layer.num_layers, batch, layer.hidden_size).float().double()
            tensors[name + ".h0"] = h0.float()
            if lstm:
                c0 = torch.randn(layer.num_layers, batch, layer.hidden_size).float().double()
                tensors[name + ".c0"] = c0.float()
                state = (h0, c0)
            else:
                state = h0
        y, st = layer(x, state) if state is not None else layer(x)
        hn = st[0] if lstm else st
        w = torch.randn(y.shape).float().double()
        wh = torch.randn(hn.shape).float().double()
        ((y * w).sum() + (hn * wh).sum()).backward()
        tensors[name + ".x"] = x.detach().float()
        tensors[name + ".y"] = y.detach().float()
        tensors[name + ".hn"] = hn.detach().float()
        if lstm:
            tensors[name + ".cn"] = st[1].detach().float()
        tensors[name + ".w"] = w.float()
        tensors[name + ".wh"] = wh.float()
        tensors[name + ".dx"] = x.grad.float()
        for pname, p in layer.named_parameters():
            tensors[name + "." + pname] = p.detach().float()
            tensors[name + ".d" + pname] = p.grad.float()
    write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rnn.safetensors"), tensors,
          {"producer": "torch " + torch.__version__})


if __name__ == "__main__":
    main()
