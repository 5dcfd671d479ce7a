#!/usr/bin/env bash
# bf16-mixed against fp32 on the wide MLP (784-1024-1024-10, Adam, batch 256), in one invocation:
# oneDNN's own f32 and bf16 GEMM times for the model's layers at batch 256 (no Kiln in between:
# the most bf16 can gain on this CPU), then --rounds runs of WideMlpVsGemm, each training the
# model in fp32 and in bf16-mixed and printing both steady samples/s and test accuracies. Prints
# the median bf16-mixed/fp32 ratio of the rounds, the accuracy difference, and the GEMM ratio it
# is to be read against. Usage:
#   bench/bf16.sh [--rounds 3] [--epochs 3]
set -euo pipefail

ROUNDS=3 EPOCHS=3
usage() { sed -n '2,8p' "$0" | sed 's/^# *//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in -h|--help) usage 0 ;; *) echo "bf16.sh: $1 needs a value" >&2; usage ;; esac
  case "$1" in
    --rounds) ROUNDS=$2 ;; --epochs) EPOCHS=$2 ;;
    -h|--help) usage 0 ;;
    *) echo "bf16.sh: unknown option $1" >&2; usage ;;
  esac
  shift 2
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

bench_packages dataset-fashion-mnist
bench_jdk
bench_classpath bench "$WORK"
bench_load_start

echo "bf16.sh: oneDNN's own GEMMs" >&2
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.kiln.bench.OneDnnGemmRates 256 784,1024,1024,10 2>&1 | tee "$WORK/gemm.log" >&2
for r in $(seq "$ROUNDS"); do
  echo "bf16.sh: round $r of $ROUNDS" >&2
  "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$CP" dev.kiln.bench.WideMlpVsGemm "$EPOCHS" 2048 \
    2>&1 | tee "$WORK/round-$r.log" >&2
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
RATIOS=$(cat "$WORK"/round-*.log | sed -n 's/^bf16-mixed \/ fp32 samples\/s: \([0-9.]*\)/\1/p')
ACC32=$(cat "$WORK"/round-*.log | sed -n 's/^fp32 .*test acc \([0-9.]*\)/\1/p' | median)
ACC16=$(cat "$WORK"/round-*.log | sed -n 's/^bf16-mixed .*test acc \([0-9.]*\)/\1/p' | median)
echo
sed -n 's/^onednn gemm layers \(.*\): f32 \(.*\) us, bf16 \(.*\) us; bf16\/f32 speed \([0-9.]*\)$/onednn gemm bf16\/f32 speed (wide MLP layers \1): \4 (f32 \2 us, bf16 \3 us)/p' "$WORK/gemm.log"
echo "bf16-mixed / fp32 samples/s: $(echo "$RATIOS" | median) (median of rounds: $(echo $RATIOS))"
awk -v a="$ACC32" -v b="$ACC16" 'BEGIN { if (a != "" && b != "") printf "test accuracy: fp32 %.4f, bf16-mixed %.4f (difference %+.2f points)\n", a, b, 100 * (b - a) }'
bench_load_report
lscpu | sed -n 's/^Model name: *//p' | sed 's/^/cpu: /'
