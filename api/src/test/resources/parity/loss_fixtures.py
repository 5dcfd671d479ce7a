#!/usr/bin/env python3
"""Writes losses.safetensors, PyTorch's losses on fixed inputs, for Kiln's LossParityTest.

    /usr/bin/python3 api/src/test/resources/parity/loss_fixtures.py

For each case <name>: <name>.out, the loss (reduction as named; for "none" the per-element
losses), and <name>.grad, d/d(output) of sum(w * loss) (w = 1 for a reduced loss). Inputs are
float32; PyTorch computes in float64 from them, and results are stored as float32.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "safetensors"))
from make_fixtures import write  # noqa: E402


def main():
    g = torch.Generator().manual_seed(7)
    logits = (torch.randn(6, 5, generator=g) * 2).float()
    labels = torch.tensor([0, 4, 2, 2, 1, 3], dtype=torch.int64)
    logp = torch.log_softmax(logits.double(), 1).float()
    x = (torch.randn(4, 3, generator=g) * 3).float()                       # logits for BCE
    y = torch.rand(4, 3, generator=g).float()                              # soft targets in [0, 1]
    p = torch.sigmoid(torch.randn(4, 3, generator=g) * 2).float()          # probabilities
    out = (torch.randn(4, 3, generator=g) * 2).float()                     # regression outputs
    tgt = (torch.randn(4, 3, generator=g) * 2).float()
    w6, w43 = torch.randn(6, generator=g).float(), torch.randn(4, 3, generator=g).float()
    tensors = {"logits": logits, "labels": labels, "logp": logp, "x": x, "y": y, "p": p, "out": out, "tgt": tgt,
               "w6": w6, "w43": w43}

    def case(name, fn, inp, target, w=None):
        a = inp.double().requires_grad_(True)
        t = target.double() if target.dtype.is_floating_point else target
        loss = fn(a, t)
        (loss * w.double()).sum().backward() if w is not None else loss.backward()
        tensors[name + ".out"] = loss.detach().float().reshape(-1) if loss.dim() else loss.detach().float().reshape(1)
        tensors[name + ".grad"] = a.grad.float()

    for r in ["mean", "sum", "none"]:
        w6r = w6 if r == "none" else None
        w43r = w43 if r == "none" else None
        case("ce_" + r, nn.CrossEntropyLoss(reduction=r), logits, labels, w6r)
        case("ce_smooth_" + r, nn.CrossEntropyLoss(label_smoothing=0.1, reduction=r), logits, labels, w6r)
        case("nll_" + r, nn.NLLLoss(reduction=r), logp, labels, w6r)
        case("bce_logits_" + r, nn.BCEWithLogitsLoss(reduction=r), x, y, w43r)
        case("bce_" + r, nn.BCELoss(reduction=r), p, y, w43r)
        case("mse_" + r, nn.MSELoss(reduction=r), out, tgt, w43r)
        case("l1_" + r, nn.L1Loss(reduction=r), out, tgt, w43r)
        case("huber_" + r, nn.HuberLoss(delta=1.5, reduction=r), out, tgt, w43r)
        case("smooth_l1_" + r, nn.SmoothL1Loss(beta=0.5, reduction=r), out, tgt, w43r)
    # BCELoss clamps each log at -100: probabilities of exactly 0 and 1 (values only; the gradients
    # there differ by design, PyTorch's being (p - y) / max(p (1 - p), 1e-12)).
    edge = torch.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]])
    edge_y = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    tensors["edge_p"], tensors["edge_y"] = edge, edge_y
    tensors["bce_edge.out"] = nn.BCELoss(reduction="none")(edge.double(), edge_y.double()).float().reshape(-1)
    write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses.safetensors"), tensors,
          {"producer": "torch " + torch.__version__})


if __name__ == "__main__":
    main()
