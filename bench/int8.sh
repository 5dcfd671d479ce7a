#!/usr/bin/env bash
# Dynamic int8 inference: Kiln fp32, Kiln int8 (Quantization.quantizeDynamic) and PyTorch's
# quantize_dynamic on the same trained weights, for the wide MLP (784-1024-1024-10) and the seed
# MLP (784-128-10) at batch 1, 32 and 256, in one invocation. Kiln trains both models (on
# Fashion-MNIST, --epochs each) and saves their weights; PyTorch loads them. Prints, for batch
# 256 on the wide MLP, int8/fp32 (Kiln int8 over Kiln fp32 samples/s), int8/pytorch (Kiln int8
# over PyTorch int8) and the accuracy drop (Kiln fp32 minus Kiln int8, percentage points), and
# the batch-1 latencies; then oneDNN's own int8 and f32 GEMM times for the wide MLP's layers at
# batch 256, the ceiling of int8/fp32 on this CPU. Usage:
#   bench/int8.sh [--epochs N] [--seconds S]
set -euo pipefail

EPOCHS=1 SECONDS_EACH=2
usage() { sed -n '2,8p' "$0" | sed 's/^# *//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in -h|--help) usage 0 ;; *) echo "int8.sh: $1 needs a value" >&2; usage ;; esac
  case "$1" in
    --epochs) EPOCHS=$2 ;; --seconds) SECONDS_EACH=$2 ;;
    -h|--help) usage 0 ;;
    *) echo "int8.sh: unknown option $1" >&2; usage ;;
  esac
  shift 2
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

bench_torch_python
bench_jdk

# 1. Build Kiln (bench/lib.sh): the examples (Int8Inference) and the benchmarks (OneDnnGemmRates).
bench_classpaths examples,bench

# 2. Kiln: trains, saves the weights, measures fp32 and int8.
echo "int8.sh: Kiln (onednn, $EPOCHS epoch(s) of training per model)" >&2
"$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "$CP_examples" dev.kiln.examples.Int8Inference "$WORK" "$EPOCHS" "$SECONDS_EACH" 2>&1 | tee "$WORK/kiln.log" >&2

# 3. PyTorch on the same weights. The machine's OpenBLAS settings are unset for this anchor
#    command only (they tune OpenBLAS for Kiln's own runs and tests and are never changed there).
echo "int8.sh: PyTorch ($PYTHON)" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" bench/pytorch_int8.py "$WORK" "$SECONDS_EACH" 2>&1 | tee "$WORK/pytorch.log" >&2

# 4. oneDNN alone, f32 and int8 matmuls of the wide MLP's layers (no Kiln in between).
echo "int8.sh: oneDNN's own GEMMs" >&2
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP_bench" dev.kiln.bench.OneDnnGemmRates 256 784,1024,1024,10 2>&1 | tee "$WORK/gemm.log" >&2

rate() { sed -n "s/^$1 batch $2: \([0-9.]*\) samples\/s.*/\1/p" "$3" | tail -n 1; }
latency() { sed -n "s/^$1 batch 1: .*median latency \([0-9.]*\) us.*/\1/p" "$2" | tail -n 1; }
acc() { sed -n "s/^$1 accuracy: \([0-9.]*\)/\1/p" "$2" | tail -n 1; }

K32=$(rate "kiln fp32 wide" 256 "$WORK/kiln.log")
K8=$(rate "kiln int8 wide" 256 "$WORK/kiln.log")
T8=$(rate "pytorch int8 wide" 256 "$WORK/pytorch.log")
T32=$(rate "pytorch fp32 wide" 256 "$WORK/pytorch.log")
A32=$(acc "kiln fp32 wide" "$WORK/kiln.log")
A8=$(acc "kiln int8 wide" "$WORK/kiln.log")

echo "wide MLP, batch 256: kiln fp32 $K32, kiln int8 $K8, pytorch fp32 $T32, pytorch int8 $T8 samples/s"
for m in wide seed; do
  for b in 1 32 256; do
    printf '%s batch %s: kiln fp32 %s, kiln int8 %s, pytorch fp32 %s, pytorch int8 %s samples/s\n' "$m" "$b" \
      "$(rate "kiln fp32 $m" "$b" "$WORK/kiln.log")" "$(rate "kiln int8 $m" "$b" "$WORK/kiln.log")" \
      "$(rate "pytorch fp32 $m" "$b" "$WORK/pytorch.log")" "$(rate "pytorch int8 $m" "$b" "$WORK/pytorch.log")"
  done
  printf '%s batch-1 latency: kiln int8 %s us, pytorch int8 %s us (kiln fp32 %s us, pytorch fp32 %s us)\n' "$m" \
    "$(latency "kiln int8 $m" "$WORK/kiln.log")" "$(latency "pytorch int8 $m" "$WORK/pytorch.log")" \
    "$(latency "kiln fp32 $m" "$WORK/kiln.log")" "$(latency "pytorch fp32 $m" "$WORK/pytorch.log")"
done
awk -v a="$K8" -v b="$K32" 'BEGIN { printf "int8/fp32: %.2f\n", a / b }'
awk -v a="$K8" -v b="$T8" 'BEGIN { printf "int8/pytorch: %.2f\n", a / b }'
# A second figure, not the issue's: Kiln's predict (the forward pass alone, as PyTorch's model(x)).
P8=$(rate "kiln predict int8 wide" 256 "$WORK/kiln.log")
P32=$(rate "kiln predict fp32 wide" 256 "$WORK/kiln.log")
echo "wide MLP, batch 256, predict: kiln fp32 $P32, kiln int8 $P8 samples/s"
awk -v a="$P8" -v b="$P32" -v t="$T8" 'BEGIN { printf "predict int8/fp32: %.2f, predict int8/pytorch: %.2f\n", a / b, a / t }'
awk -v a="$A32" -v b="$A8" 'BEGIN { printf "accuracy drop: %.2f points\n", (a - b) * 100 }'
sed -n 's/^onednn gemm layers .*, \([0-9]* threads*\): .*f32\/int8 \([0-9.]*\) (u8s8), \([0-9.]*\) (s8s8)$/onednn gemm f32\/int8 (wide MLP layers, batch 256, \1): \2 u8s8, \3 s8s8/p' "$WORK/gemm.log"
