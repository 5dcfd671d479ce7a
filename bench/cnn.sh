#!/usr/bin/env bash
# Convolution-network speed comparison: Kiln's FashionMnistCnn example against the same CNN in
# PyTorch (bench/pytorch_cnn.py), same data files, batch and epochs, PyTorch on 1 thread and on all
# CPUs. Runs the three side by side, round after round, and prints each one's median samples/s and
# the ratio of Kiln to PyTorch at its better thread count. Usage:
#   bench/cnn.sh [--epochs 1] [--batch 64] [--rounds 3] [--backend onednn]
set -euo pipefail

EPOCHS=1 BATCH=64 ROUNDS=3 BACKEND=onednn
usage() { sed -n '2,6p' "$0" | sed 's/^# *//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in -h|--help) usage 0 ;; *) echo "cnn.sh: $1 needs a value" >&2; usage ;; esac
  case "$1" in
    --epochs) EPOCHS=$2 ;; --batch) BATCH=$2 ;; --rounds) ROUNDS=$2 ;; --backend) BACKEND=$2 ;;
    -h|--help) usage 0 ;;
    *) echo "cnn.sh: unknown option $1" >&2; usage ;;
  esac
  shift 2
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. System packages, the PyTorch anchor's python and the JDK (bench/lib.sh); then Kiln.
bench_packages python3-torch libopenblas0-pthread dataset-fashion-mnist
bench_torch_python
bench_jdk
bench_classpath examples "$WORK" || { echo "cnn.sh: the Kiln build failed (see above)" >&2; exit 1; }

CPUS=$(nproc)
KILN=("$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$CP" dev.kiln.examples.FashionMnistCnn
      --epochs "$EPOCHS" --batch "$BATCH" --backend "$BACKEND")
TORCH=("$PYTHON" bench/pytorch_cnn.py --epochs "$EPOCHS" --batch "$BATCH")
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $CPUS CPUs; java: $("$JAVA" -version 2>&1 | head -n 1)"
echo "commands, $ROUNDS rounds of each in turn (CP = examples' classes and runtime classpath):"
echo "  kiln:    ${KILN[*]/#$CP/\$CP}"
echo "  pytorch: ${TORCH[*]} --threads 1   and   --threads $CPUS"

# run NAME PREFIX CMD...: one run, its output kept in $WORK/NAME.log and reported on stderr;
# prints the "PREFIX: N samples/s" figure, or nothing if the run failed.
run() {
  local name=$1 prefix=$2 rc=0 n
  shift 2
  "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  n=$(sed -n "s/^$prefix: *\([0-9][0-9.eE+]*\) samples\/s.*/\1/p" "$WORK/$name.log" | tail -n 1)
  if [ "$rc" != 0 ] || [ -z "$n" ]; then
    echo "cnn.sh: $name failed (exit $rc) or printed no '$prefix: N samples/s' line:" >&2
    tail -n 20 "$WORK/$name.log" >&2
    return 0
  fi
  echo "cnn.sh: $name: $n samples/s, $(grep -m1 '^test accuracy' "$WORK/$name.log" || true)" >&2
  echo "$n"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

bench_load_start
KILN_RUNS= TORCH1_RUNS= TORCHN_RUNS=
for r in $(seq "$ROUNDS"); do
  KILN_RUNS+=" $(run "kiln-$r" kiln "${KILN[@]}")"
  TORCH1_RUNS+=" $(run "pytorch-1-thread-$r" pytorch "${TORCH[@]}" --threads 1)"
  TORCHN_RUNS+=" $(run "pytorch-$CPUS-threads-$r" pytorch "${TORCH[@]}" --threads "$CPUS")"
done
bench_load_report

K=$(echo "$KILN_RUNS" | median) T1=$(echo "$TORCH1_RUNS" | median) TN=$(echo "$TORCHN_RUNS" | median)
echo "kiln: ${K:-n/a} samples/s (runs:$KILN_RUNS)"
echo "pytorch 1 thread: ${T1:-n/a} samples/s (runs:$TORCH1_RUNS)"
echo "pytorch $CPUS threads: ${TN:-n/a} samples/s (runs:$TORCHN_RUNS)"
BEST=$(printf '%s\n%s\n' "$T1" "$TN" | grep . | sort -g | tail -n 1)
if [ -n "$K" ] && [ -n "$BEST" ]; then
  awk -v k="$K" -v t="$BEST" 'BEGIN { printf "ratio: %.2f (kiln / pytorch at its better thread count)\n", k / t }'
else
  echo "ratio: n/a"
  exit 1
fi
