#!/usr/bin/env python3
"""Writes mha_masks.safetensors: torch.nn.MultiheadAttention(8, 2, batch_first=True) with separate
query, key and value and a key padding mask, for Kiln's AttentionMaskParityTest.

    /usr/bin/python3 api/src/test/resources/parity/mha_mask_fixtures.py

state.<name>      the state dict (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias)
<case>.query/.key/.value, <case>.mask (bool [batch, s], True = padding), <case>.y, <case>.w, and the
gradients of sum(w * y) with respect to query, key, value (d_query, d_key, d_value) and every
parameter (d.<name>). Cases: "cross" (query [2, 4, 8], key = value [2, 5, 8] different tensors:
key and value separate), "self_causal" (self-attention over [2, 5, 8] with the mask and a causal
attn_mask). need_weights=False; float32 values, computed in float64.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "safetensors"))
from make_fixtures import write  # noqa: E402


def main():
    torch.manual_seed(3)
    mha = nn.MultiheadAttention(8, 2, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_bias.copy_(torch.randn(24) * 0.1)   # nonzero, so a wrong bias slice shows
        mha.out_proj.bias.copy_(torch.randn(8) * 0.1)
        for p in mha.parameters():
            p.copy_(p.float().double())
    tensors = {"state." + k: v.detach().float() for k, v in mha.state_dict().items()}
    mask = torch.tensor([[False, False, False, True, True], [False, False, False, False, True]])
    x = torch.randn(2, 5, 8).float().double()
    cases = {
        "cross": (torch.randn(2, 4, 8).float().double(), torch.randn(2, 5, 8).float().double(),
                  torch.randn(2, 5, 8).float().double(), None),
        "self_causal": (x, x, x, torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)),
    }
    for name, (q, k, v, attn_mask) in cases.items():
        same = q is k
        q = q.clone().requires_grad_(True)
        k = q if same else k.clone().requires_grad_(True)
        v = q if same else v.clone().requires_grad_(True)
        mha.zero_grad()
        y, _ = mha(q, k, v, key_padding_mask=mask, attn_mask=attn_mask, need_weights=False)
        w = torch.randn(y.shape).float().double()
        (y * w).sum().backward()
        tensors[name + ".query"] = q.detach().float()
        tensors[name + ".key"] = k.detach().float()
        tensors[name + ".value"] = v.detach().float()
        tensors[name + ".mask"] = mask
        tensors[name + ".y"] = y.detach().float()
        tensors[name + ".w"] = w.float()
        tensors[name + ".d_query"] = q.grad.float()
        if not same:
            tensors[name + ".d_key"] = k.grad.float()
            tensors[name + ".d_value"] = v.grad.float()
        for pname, p in mha.named_parameters():
            tensors[name + ".d." + pname] = p.grad.float()
    write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "mha_masks.safetensors"), tensors,
          {"producer": "torch " + torch.__version__})


if __name__ == "__main__":
    main()
