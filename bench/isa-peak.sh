#!/usr/bin/env bash
# Peak AVX-512 multiply-accumulate rate per precision (f32 FMA, bf16 dot product, f16 FMA) on 1 and
# 2 threads: the ceiling a GEMM built on each instruction can reach on this CPU. Needs gcc.
# Usage: bench/isa-peak.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")" && pwd)
command -v gcc >/dev/null || { echo "isa-peak.sh: needs gcc (apt-get install gcc)" >&2; exit 1; }
grep -qw avx512f /proc/cpuinfo || { echo "isa-peak.sh: this CPU has no AVX-512" >&2; exit 1; }
flags=(-mavx512f)
grep -qw avx512_bf16 /proc/cpuinfo && flags+=(-mavx512bf16)
grep -qw avx512_fp16 /proc/cpuinfo && flags+=(-mavx512fp16 -mavx512vl -mavx512bw)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 "${flags[@]}" -pthread "$ROOT/isa/peak.c" -o "$OUT/peak"
echo "cpu: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); amx: $(grep -qw amx_bf16 /proc/cpuinfo && echo yes || echo no)"
"$OUT/peak"
