#!/usr/bin/env python3
"""Writes the optimizer and learning-rate schedule fixtures OptimizerParityTest,
LrScheduleParityTest and (in examples) OptimizerParityOnOneDnnTest read, with PyTorch (Debian's
python3-torch 1.13), so that CI needs no torch:

    /usr/bin/python3 api/src/test/resources/parity/optim_fixtures.py

adam_linear.safetensors
    A Linear(4, 3) trained for 20 steps from the same start by Adam, AdamW, Adam with L2 weight
    decay, RMSprop (default, and with momentum, centered and weight decay) and Adagrad (default,
    and with lr decay and weight decay; lr 0.1), each twice: on the mean squared error against float targets (Kiln: GradientTape and
    Optimizer.step) and on softmax cross-entropy against integer labels (Kiln: Trainer.fit, one
    full batch per epoch). The AdamW cross-entropy run also follows a warm-up then cosine
    schedule (SequentialLR), so the trainer's learning-rate feed is checked too.
        init.weight, init.bias         the starting point (PyTorch's default initialisation, seeded)
        x [8, 4], target [8, 3], labels [8] (int64)
        <case>.<loss>.step<k>.weight / .bias   after k = 1, 2, 5 and 20 steps
lr_schedules.safetensors (float64)
    <name>.lr         the rate of each update, as the optimizer saw it (param_groups[0]['lr'],
                      read before the k-th optimizer.step(), so entry k is Kiln's at(k))
    <name>.closed     the closed form (_get_closed_form_lr) at the same steps, where there is one
    cosine      CosineAnnealingLR(T_max=10, eta_min=0.001), 35 steps (past 2 * T_max: it rises again)
    linear      LinearLR(start_factor=0.1, end_factor=1.0, total_iters=5), 10 steps
    sequential  SequentialLR([LinearLR(0.1, 1.0, 5), CosineAnnealingLR(10, 0.001)], milestones=[5]), 30 steps
All base rates are 1e-2. The optimizers run with foreach=False: the single-tensor loops whose
arithmetic Kiln follows.
"""
import math
import os
import sys
import warnings

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "safetensors"))
from make_fixtures import write  # noqa: E402

LR = 1e-2
SNAPSHOTS = (1, 2, 5, 20)
STEPS = 20


def optimizers():
    """Name -> a function making the optimizer for some parameters."""
    return {
        "adam": lambda p: torch.optim.Adam(p, lr=LR, betas=(0.9, 0.999), foreach=False),
        "adamw": lambda p: torch.optim.AdamW(p, lr=LR, betas=(0.9, 0.999), weight_decay=0.1, foreach=False),
        "adam_l2": lambda p: torch.optim.Adam(p, lr=LR, betas=(0.9, 0.999), weight_decay=0.01, foreach=False),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=LR, foreach=False),
        "rmsprop_full": lambda p: torch.optim.RMSprop(p, lr=LR, alpha=0.9, weight_decay=0.01, momentum=0.9, centered=True, foreach=False),
        "adagrad": lambda p: torch.optim.Adagrad(p, lr=LR * 10, foreach=False),
        "adagrad_decay": lambda p: torch.optim.Adagrad(p, lr=LR * 10, lr_decay=0.05, weight_decay=0.01, foreach=False),
        # Parameter groups: the weight with its own rate and decoupled weight decay, the bias with the defaults.
        "adamw_groups": lambda p: (lambda ps: torch.optim.AdamW([{"params": [ps[0]], "lr": LR / 10, "weight_decay": 0.1},
                                                                 {"params": [ps[1]]}], lr=LR, weight_decay=0.0, foreach=False))(list(p)),
    }


def warmup_cosine(opt):
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    return torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[5])


def train(init, make_opt, loss_fn, schedule=None):
    model = torch.nn.Linear(4, 3)
    model.load_state_dict(init)
    opt = make_opt(model.parameters())
    sched = schedule(opt) if schedule else None
    out = {}
    for k in range(1, STEPS + 1):
        opt.zero_grad()
        loss_fn(model).backward()
        opt.step()
        if sched:
            sched.step()
        if k in SNAPSHOTS:
            for name, t in model.state_dict().items():
                out["step%d.%s" % (k, name)] = t.detach().clone()
    return out


def adam_fixture():
    torch.manual_seed(2024)
    init = {k: v.detach().clone() for k, v in torch.nn.Linear(4, 3).state_dict().items()}
    x = torch.randn(8, 4)
    target = torch.randn(8, 3)
    labels = torch.randint(0, 3, (8,))
    losses = {
        "mse": lambda m: torch.nn.functional.mse_loss(m(x), target),
        "ce": lambda m: torch.nn.functional.cross_entropy(m(x), labels),
    }
    tensors = {"init.weight": init["weight"], "init.bias": init["bias"], "x": x, "target": target, "labels": labels}
    for opt_name, make in optimizers().items():
        for loss_name, fn in losses.items():
            schedule = warmup_cosine if (opt_name, loss_name) == ("adamw", "ce") else None
            for key, t in train(init, make, fn, schedule).items():
                tensors["%s.%s.%s" % (opt_name, loss_name, key)] = t
    write(os.path.join(here, "adam_linear.safetensors"), tensors, {"producer": "torch " + torch.__version__})


def rates(make_schedule, steps):
    """The rate of each of `steps` updates, and the closed form at the same steps (None if it has none)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    sched = make_schedule(opt)
    lr, closed = [], []
    for k in range(steps):
        lr.append(opt.param_groups[0]["lr"])
        if hasattr(sched, "_get_closed_form_lr"):
            closed.append(sched._get_closed_form_lr()[0])
        opt.step()
        sched.step()
    return lr, closed or None


def schedule_fixture():
    schedules = {
        "cosine": (lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 35),
        "linear": (lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5), 10),
        "sequential": (warmup_cosine, 30),
    }
    tensors = {}
    for name, (make, steps) in schedules.items():
        lr, closed = rates(make, steps)
        tensors[name + ".lr"] = torch.tensor(lr, dtype=torch.float64)
        if closed:
            tensors[name + ".closed"] = torch.tensor(closed, dtype=torch.float64)
            gap = max(abs(a - b) / b for a, b in zip(lr, closed))
            print("%s: the recursive rates PyTorch steps through differ from the closed form by %.3g relative at most" % (name, gap))
    write(os.path.join(here, "lr_schedules.safetensors"), tensors, {"producer": "torch " + torch.__version__})


def main():
    # SequentialLR's constructor steps its schedulers, which PyTorch warns about; the values are what they are.
    warnings.simplefilter("ignore", UserWarning)
    torch.set_num_threads(1)
    adam_fixture()
    schedule_fixture()


if __name__ == "__main__":
    main()
