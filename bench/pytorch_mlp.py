#!/usr/bin/env python3
"""PyTorch half of bench/compare.sh: the same Fashion-MNIST MLP that Kiln's
FashionMnistMlp example trains, timed the same way (training loop only, data
already in memory, reshuffled every epoch), so the two samples/s are comparable.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np

# Debian's torch runs its own ops on an OpenMP pool but calls a pthread OpenBLAS for fp32 GEMM.
# With libgomp's default spin-waiting, idle OpenMP threads steal the cores OpenBLAS needs:
# measured 3-4x slower on a 2-core VM. Passive waiting fixes that without giving up threaded
# GEMM, so PyTorch is compared at its best. It must be set before torch loads libgomp; an
# explicit setting by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit(f"{sys.executable} cannot import torch: install python3-torch (Debian) and run "
             "this script with /usr/bin/python3, or use a Python that has torch")

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def candidate_dirs(explicit):
    # Same order as Kiln's FashionMnist loader, so both sides read the same files.
    if explicit:
        return [explicit]
    dirs = []
    if os.environ.get("KILN_DATASETS"):
        dirs.append(os.path.join(os.environ["KILN_DATASETS"], "fashion-mnist"))
    dirs.append(os.path.expanduser("~/.kiln/datasets/fashion-mnist"))
    dirs.append("/usr/share/datasets/fashion-mnist")
    return dirs


def find(dirname, base):
    for name in (base, base + ".gz"):
        path = os.path.join(dirname, name)
        if os.path.isfile(path):
            return path
    return None


def read_idx(path, magic, ndim):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":  # gzip by content, not by name, as Kiln does
        data = gzip.decompress(data)
    found = struct.unpack(">I", data[:4])[0]
    if found != magic:
        sys.exit(f"{path}: expected IDX magic {magic:#010x} but found {found:#010x}")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        sys.exit(f"{path}: header dims {dims} need {int(np.prod(dims))} bytes but found {body.size}")
    return body.reshape(dims)


def load(explicit, split):
    tried = []
    for d in candidate_dirs(explicit):
        images, labels = (find(d, b) for b in FILES[split])
        if images and labels:
            x = torch.from_numpy(read_idx(images, 0x803, 3).astype(np.float32) / 255.0)
            y = torch.from_numpy(read_idx(labels, 0x801, 1).astype(np.int64))
            if len(x) != len(y):
                sys.exit(f"{labels}: expected {len(x)} labels but found {len(y)}")
            return x, y, d
        tried.append(d)
    sys.exit("Fashion-MNIST not found in: " + ", ".join(tried)
             + "\nInstall it with: sudo apt-get install dataset-fashion-mnist")


def build_model(hidden):
    layers, width = [nn.Flatten()], 28 * 28
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def evaluate(model, x, y, bf16, device="cpu"):
    model.eval()
    correct = 0
    with torch.no_grad(), torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
        for i in range(0, len(x), 1000):
            correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    model.train()
    return correct / len(x)


def mlp(args):
    hidden = [int(h) for h in args.hidden.split(",") if h]
    return build_model(hidden), f"hidden={hidden}"


def main(model=mlp, doc=__doc__):
    """Trains model(args) -> (module, description) and prints its samples/s; pytorch_cnn.py passes its CNN."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--hidden", default="128", help="comma-separated hidden widths, e.g. 256,128")
    p.add_argument("--precision", choices=["fp32", "bf16-mixed"], default="fp32")
    p.add_argument("--data-dir", help="directory with the four IDX files (default: Kiln's lookup)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cuda: the anchor for Kiln's cuda backend (data and model on the GPU)")
    args = p.parse_args()
    bf16 = args.precision == "bf16-mixed"

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    x_train, y_train, where = load(args.data_dir, "train")
    x_test, y_test, _ = load(args.data_dir, "test")
    dev = args.device
    # On the GPU the whole dataset lives in device memory, PyTorch at its best for this size.
    x_train, y_train, x_test, y_test = (t.to(dev) for t in (x_train, y_train, x_test, y_test))
    module, described = model(args)
    model = module.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()  # softmax cross-entropy on logits, mean over the batch
    gen = torch.Generator().manual_seed(args.seed)
    n, b = len(x_train), args.batch
    print(f"pytorch {torch.__version__}: {n} train / {len(x_test)} test from {where}; "
          f"{described} batch={b} epochs={args.epochs} precision={args.precision} "
          f"threads={torch.get_num_threads()} OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}", flush=True)

    train_seconds = 0.0
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=gen).to(dev)
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), dtype=torch.int64, device=dev)
        for i in range(0, n, b):  # the last partial batch is kept, as in Kiln's DataLoader default
            idx = order[i:i + b]
            xb, yb = x_train[idx], y_train[idx]
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=bf16):
                logits = model(xb)
                loss = loss_fn(logits.float(), yb)  # losses stay in fp32, as Kiln's policies say
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            # Accumulate as tensors: .item() per step would add a sync the Kiln loop does not pay.
            with torch.no_grad():
                loss_sum += loss.detach() * len(idx)
                correct += (logits.argmax(1) == yb).sum()
        if dev == "cuda":
            torch.cuda.synchronize()  # the GPU runs ahead of Python; stop the clock when it is done
        dt = time.perf_counter() - t0
        train_seconds += dt
        print(f"epoch {epoch + 1}: loss {loss_sum.item() / n:.4f} train-acc {correct.item() / n:.4f} "
              f"test-acc {evaluate(model, x_test, y_test, bf16, dev):.4f} ({dt:.2f} s, {n / dt:.0f} samples/s)",
              flush=True)

    print(f"test accuracy: {evaluate(model, x_test, y_test, bf16, dev):.4f}")
    print(f"pytorch: {args.epochs * n / train_seconds:.1f} samples/s")


if __name__ == "__main__":
    main()
