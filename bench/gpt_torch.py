#!/usr/bin/env python3
"""The PyTorch anchor for GptBench: the same GPT-style decoder (pre-norm blocks of causal
attention and a 4x GELU(tanh) MLP, learned positions, AdamW) on seeded random byte tokens,
timed in tokens/s after warm-up with the device synchronised, in eager mode with autocast and
with torch.compile. Prints one line per mode: `torch-eager: N tokens/s`, `torch-compile: ...`."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 256


def attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):  # PyTorch 2: fused (flash) attention
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    t = q.shape[-2]
    s = (q @ k.transpose(-2, -1)) / q.shape[-1] ** 0.5
    s = s.masked_fill(torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return s.softmax(-1) @ v


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.ln1(x)
        q, k, v = (p(h).view(b, t, self.heads, d // self.heads).transpose(1, 2) for p in (self.q, self.k, self.v))
        a = attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(a)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class LanguageModel(nn.Module):
    def __init__(self, layers, dim, heads, seq):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, dim)
        self.positions = nn.Parameter(torch.randn(seq, dim) * 0.02)
        self.blocks = nn.Sequential(*(Block(dim, heads) for _ in range(layers)))
        self.ln, self.head = nn.LayerNorm(dim), nn.Linear(dim, VOCAB)

    def forward(self, x):
        inp, target = x[:, :-1], x[:, 1:]
        h = self.blocks(self.tokens(inp) + self.positions)
        logits = self.head(self.ln(h))
        return F.cross_entropy(logits.reshape(-1, VOCAB).float(), target.reshape(-1))


def run(mode, args, device):
    torch.manual_seed(0)
    model = LanguageModel(args.layers, args.dim, args.heads, args.seq).to(device)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    # "compile" is torch.compile's default mode; "compile-reduce-overhead" adds CUDA graphs, as Kiln replays its step.
    step_fn = model if mode == "eager" else torch.compile(model, mode="reduce-overhead" if mode == "compile-reduce-overhead" else None)
    g = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, VOCAB, (args.batch, args.seq + 1), generator=g).to(device) for _ in range(8)]
    def step(i):
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16-mixed"):
            loss = step_fn(batches[i % len(batches)])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for i in range(args.warmup):
        step(i)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for i in range(args.steps):
        loss = step(i)
    sync()
    seconds = time.perf_counter() - start
    tokens = args.steps * args.batch * args.seq / seconds
    flops = (6 * params + 12 * args.layers * args.seq * args.dim) * tokens
    print(f"torch-{mode}: {tokens:.0f} tokens/s  {1e3 * seconds / args.steps:.1f} ms/step  {flops / 1e12:.1f} TFLOP/s  "
          f"MFU {100 * flops / 1e12 / args.peak_tflops:.1f}% of {args.peak_tflops:.0f}  loss {loss.item():.4f}  params {params}", flush=True)


def main():
    p = argparse.ArgumentParser()
    for name, default in (("layers", 6), ("dim", 512), ("heads", 8), ("seq", 256), ("batch", 32), ("steps", 20), ("warmup", 5)):
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--precision", default="bf16-mixed")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--modes", default="eager,compile")
    p.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak of the GPU (H100 SXM: 989), for MFU")
    args = p.parse_args()
    device = torch.device(args.device)
    print(f"pytorch {torch.__version__} on {torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}", flush=True)
    for mode in args.modes.split(","):
        try:
            run(mode, args, device)
        except Exception as e:  # torch.compile can be unavailable; say so and go on
            print(f"torch-{mode}: failed: {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    main()
