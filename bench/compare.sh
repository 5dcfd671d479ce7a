#!/usr/bin/env bash
# Whole-program speed comparison: Kiln's Fashion-MNIST MLP example against the same model in
# PyTorch, same data files, batch, epochs and precision. Prints kiln/pytorch samples/s and
# their ratio (against PyTorch's better run of 1 thread and all cores), Kiln's first epoch over its
# median steady epoch, and the time from JVM start to Kiln's first training step. Usage:
#   bench/compare.sh [--epochs N] [--batch B] [--hidden 128[,64...]] [--precision fp32|bf16-mixed] [--backend onednn]
set -euo pipefail

EPOCHS=5 BATCH=64 HIDDEN=128 PRECISION=fp32 BACKEND=onednn
usage() { sed -n '2,6p' "$0" | sed 's/^# *//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in -h|--help) usage 0 ;; *) echo "compare.sh: $1 needs a value" >&2; usage ;; esac
  case "$1" in
    --epochs) EPOCHS=$2 ;; --batch) BATCH=$2 ;; --hidden) HIDDEN=$2 ;;
    --precision) PRECISION=$2 ;; --backend) BACKEND=$2 ;;
    -h|--help) usage 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; usage ;;
  esac
  shift 2
done
case "$PRECISION" in fp32|bf16-mixed) ;; *) echo "compare.sh: --precision must be fp32 or bf16-mixed" >&2; exit 2 ;; esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. System packages (bench/lib.sh), the PyTorch anchor's python and the JDK.
bench_packages python3-torch libopenblas0-pthread dataset-fashion-mnist
bench_torch_python
bench_jdk

# 2. Build Kiln (bench/lib.sh). A failed build or run is reported but PyTorch still runs, so its
#    figure is never lost.
number() { sed -n "s/^$1: *\([0-9][0-9.eE+]*\) samples\/s.*/\1/p" "$2" | tail -n 1; }
KILN=
if bench_classpath examples "$WORK"; then
  # 3. Kiln. Output is shown as it runs and kept for parsing.
  echo "compare.sh: Kiln (backend $BACKEND, $PRECISION, batch $BATCH, hidden $HIDDEN, $EPOCHS epochs)" >&2
  set +e
  "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dkiln.backend="$BACKEND" \
    -cp "$CP" dev.kiln.examples.FashionMnistMlp \
    --epochs "$EPOCHS" --batch "$BATCH" --hidden "$HIDDEN" --precision "$PRECISION" --backend "$BACKEND" \
    2>&1 | tee "$WORK/kiln.log" >&2
  kiln_rc=${PIPESTATUS[0]}
  set -e
  KILN=$(number kiln "$WORK/kiln.log")
  [ "$kiln_rc" = 0 ] && [ -n "$KILN" ] || echo "compare.sh: Kiln run failed (exit $kiln_rc) or printed no 'kiln: N samples/s' line" >&2
else
  echo "compare.sh: the Kiln build failed (see above); skipping the Kiln run" >&2
fi

# 4. PyTorch, same model and options, on one thread and on every core: on 2 vCPUs PyTorch 1.13 is
#    often faster on one thread for these models, so the ratio is against its better run.
THREADS_ALL=$(nproc)
torch_run() {
  echo "compare.sh: PyTorch ($PYTHON, $1 thread(s))" >&2
  set +e
  "$PYTHON" bench/pytorch_mlp.py --epochs "$EPOCHS" --batch "$BATCH" --hidden "$HIDDEN" --precision "$PRECISION" --threads "$1" \
    2>&1 | tee "$WORK/pytorch-$1.log" >&2
  local rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" = 0 ] || echo "compare.sh: PyTorch on $1 thread(s) failed (exit $rc)" >&2
  number pytorch "$WORK/pytorch-$1.log"
}
TORCH1=$(torch_run 1)
TORCHN=$TORCH1
[ "$THREADS_ALL" -gt 1 ] && TORCHN=$(torch_run "$THREADS_ALL")
TORCH=$(awk -v a="${TORCH1:-0}" -v b="${TORCHN:-0}" 'BEGIN { m = a > b ? a : b; if (m > 0) print m }')

# Kiln's first epoch against its steady ones (the median of epochs 2..N), from the example's epoch lines.
epoch_secs() { sed -n 's/^epoch [0-9]*\/[0-9]*  .*  \([0-9.]*\)s  .*/\1/p' "$WORK/kiln.log"; }
FIRST=$(epoch_secs | head -n 1)
STEADY=$(epoch_secs | tail -n +2 | sort -g | awk '{ v[NR] = $1 } END { if (NR) print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
FIRST_VS_STEADY=$(awk -v f="${FIRST:-0}" -v s="${STEADY:-0}" 'BEGIN { if (f > 0 && s > 0) printf "%.2f (%.2f s against %.2f s)", f / s, f, s }')
START=$(sed -n 's/^JVM start to first training step: \([0-9.]*\) s/\1/p' "$WORK/kiln.log" | tail -n 1)

echo "kiln: ${KILN:-n/a} samples/s"
echo "pytorch: ${TORCH:-n/a} samples/s   (1 thread ${TORCH1:-n/a}, $THREADS_ALL threads ${TORCHN:-n/a}; the better one)"
echo "kiln first epoch / steady epoch: ${FIRST_VS_STEADY:-n/a}"
echo "kiln JVM start to first training step: ${START:-n/a} s"
if [ -n "$KILN" ] && [ -n "$TORCH" ]; then
  awk -v k="$KILN" -v t="$TORCH" 'BEGIN { printf "ratio: %.2f\n", k / t }'
else
  echo "ratio: n/a"
  exit 1
fi
