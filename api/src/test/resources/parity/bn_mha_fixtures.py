#!/usr/bin/env python3
"""Writes the fixtures of Kiln's BatchNorm2d and MultiHeadAttention parity tests with PyTorch
(Debian's python3-torch 1.13), so the tests themselves need no torch:

    /usr/bin/python3 api/src/test/resources/parity/bn_mha_fixtures.py

batchnorm_train.safetensors  BatchNorm2d(3) in training mode, fixed gamma and beta, loss =
                             sum(bn(input) * loss_weights): the output, d loss / d input, gamma
                             and beta, and the running statistics and batch count after one
                             pass (input) and after a second (input_2)
batchnorm_state.safetensors  that BatchNorm2d's state dict after both passes, num_batches_tracked
                             included (an int64 scalar), for loading on its own
batchnorm_eval.safetensors   an input and that BatchNorm2d's evaluation-mode output for it
conv_bn_state.safetensors    the state dict of Sequential(Conv2d(1, 3, 3), BatchNorm2d(3)) after
                             two training passes
conv_bn_io.safetensors       an input and that model's evaluation-mode output
mha_state.safetensors        the state dict of MultiheadAttention(8, 2, batch_first=True), biases
                             randomised (PyTorch starts them at zero, which would hide a mix-up)
mha_io.safetensors           an input [2, 5, 8] used as query, key and value, the output
                             (need_weights=False), and the output with a causal attn_mask

    /usr/bin/python3 bn_mha_fixtures.py check-kiln MHA_WEIGHTS CONV_BN_WEIGHTS IO

loads state dicts Kiln wrote into the same PyTorch modules with a strict load_state_dict, runs
them on IO's "mha_input" and "conv_bn_input", prints the largest differences from Kiln's
"mha_output" and "conv_bn_output", and exits 1 above 1e-5.
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "safetensors"))
from make_fixtures import write  # noqa: E402
from load_kiln_checkpoint import load  # noqa: E402

PRODUCER = {"producer": "torch " + torch.__version__}


def batch_norm():
    torch.manual_seed(20)
    bn = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.5, -0.5, 0.75]))
        bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    # Channels with different means and spreads, so that mixing them up shows.
    spread, centre = torch.tensor([1.0, 3.0, 0.5]).view(1, 3, 1, 1), torch.tensor([0.5, -2.0, 4.0]).view(1, 3, 1, 1)
    x = (torch.randn(4, 3, 5, 5) * spread + centre).requires_grad_()
    x2 = torch.randn(4, 3, 5, 5) * spread.flip(1) + centre.flip(1)
    loss_weights = torch.randn(4, 3, 5, 5)
    gamma, beta = bn.weight.detach().clone(), bn.bias.detach().clone()

    bn.train()
    y = bn(x)
    (y * loss_weights).sum().backward()
    first = {"running_mean_1": bn.running_mean.clone(), "running_var_1": bn.running_var.clone(),
             "num_batches_tracked_1": bn.num_batches_tracked.clone()}
    with torch.no_grad():
        y2 = bn(x2)
    out = {"input": x.detach(), "loss_weights": loss_weights, "gamma": gamma, "beta": beta,
           "output": y.detach(), "grad_input": x.grad, "grad_gamma": bn.weight.grad, "grad_beta": bn.bias.grad,
           **first, "input_2": x2, "output_2": y2, "running_mean_2": bn.running_mean.clone(),
           "running_var_2": bn.running_var.clone(), "num_batches_tracked_2": bn.num_batches_tracked.clone()}
    write(os.path.join(HERE, "batchnorm_train.safetensors"), out, PRODUCER)
    write(os.path.join(HERE, "batchnorm_state.safetensors"), dict(bn.state_dict()), PRODUCER)
    bn.eval()
    xe = torch.randn(2, 3, 4, 4) * spread + centre
    with torch.no_grad():
        write(os.path.join(HERE, "batchnorm_eval.safetensors"), {"input": xe, "output": bn(xe)}, PRODUCER)


def conv_bn():
    torch.manual_seed(21)
    model = conv_bn_model()
    with torch.no_grad():
        model.train()
        for _ in range(2):
            model(torch.randn(4, 1, 6, 6) * 2 + 1)
        model.eval()
        x = torch.randn(2, 1, 6, 6) * 2 + 1
        y = model(x)
    write(os.path.join(HERE, "conv_bn_state.safetensors"), dict(model.state_dict()), PRODUCER)
    write(os.path.join(HERE, "conv_bn_io.safetensors"), {"input": x, "output": y}, PRODUCER)


def conv_bn_model():
    return torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3))


def mha_model():
    return torch.nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)


def causal_mask(t):
    # True hides a key from a query: key j is hidden from query i when j > i.
    return torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)


def attention():
    torch.manual_seed(22)
    mha = mha_model()
    with torch.no_grad():
        mha.in_proj_bias.copy_(torch.randn(24) * 0.5)
        mha.out_proj.bias.copy_(torch.randn(8) * 0.5)
    mha.eval()
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        y, _ = mha(x, x, x, need_weights=False)
        yc, _ = mha(x, x, x, need_weights=False, attn_mask=causal_mask(5))
    write(os.path.join(HERE, "mha_state.safetensors"), dict(mha.state_dict()), PRODUCER)
    write(os.path.join(HERE, "mha_io.safetensors"), {"input": x, "output": y, "output_causal": yc}, PRODUCER)


def check_kiln(mha_path, conv_bn_path, io_path):
    io, _ = load(io_path)
    mha = mha_model()
    mha.load_state_dict(load(mha_path)[0])  # strict: every name and shape must match
    mha.eval()
    model = conv_bn_model()
    model.load_state_dict(load(conv_bn_path)[0])
    model.eval()
    x = io["mha_input"]
    with torch.no_grad():
        y, _ = mha(x, x, x, need_weights=False)
        z = model(io["conv_bn_input"])
    d_mha = (y - io["mha_output"]).abs().max().item()
    d_bn = (z - io["conv_bn_output"]).abs().max().item()
    print("num_batches_tracked", model[1].num_batches_tracked.item(), model[1].num_batches_tracked.dtype)
    print("max |torch - kiln| attention =", d_mha, "conv+batchnorm =", d_bn)
    sys.exit(0 if max(d_mha, d_bn) <= 1e-5 else 1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "check-kiln":
        check_kiln(*sys.argv[2:5])
        return
    batch_norm()
    conv_bn()
    attention()


if __name__ == "__main__":
    main()
