#!/usr/bin/env bash
# Data-parallel scaling of Kiln's Trainer: the wide MLP (784-1024-1024-10, Adam, batch per rank)
# with one oneDNN thread per process, as 1 process and as 2 mpirun ranks, alternated in one run;
# parity of 2 ranks x B against 1 process x 2B; the trainer's all-reduce against MPI_Allreduce.
# Usage:
#   bench/ddp.sh [--rounds 5] [--steps 50] [--epochs 3] [--warmup-epochs 1] [--batch 256] [--parity-batch 256] [--reps 50]
set -euo pipefail

# Prints (stdout), each line exact, after a header with the CPU and the commands:
#   ranks 1: N samples/s         median over every measured epoch of every 1-process run
#   ranks 2: N samples/s         the same for 2 ranks; global: both ranks' examples over rank 0's epoch time
#   scaling: R                   ranks 2 / ranks 1; details: two independent single processes run side by
#                                side (no MPI), the ceiling the machine leaves without communication
#   max relative parameter difference vs single process: D
#                                after --steps (50) steps of 2 ranks x --parity-batch against 1 process x
#                                twice that, same initialisation and examples; D = max|a-b| / max|b| over
#                                all parameters (DataParallelTest's definition); a control run shows the same
#                                for one process accumulating two micro-batches (no MPI)
#   all-reduce per step: X ms in the step, Y ms raw MPI_Allreduce of Z MB (ratio R)
#                                X: median per step of Trainer.gradientSyncSeconds(), mean of the ranks;
#                                Y: bench/ddp/allreduce.c, the same byte count, same mpirun flags, this run
#   hidden behind backward: H%   1 - (2-rank step - step of the independent pair) / X, clamped to [0, 1];
#                                details: the same against 1 process alone
# Indented lines under them give the details (per-run figures, step times, what each figure is).
# --steps is the steps per epoch (the data is cut to batch x ranks x steps examples); the first
# --warmup-epochs are not measured. Nothing in the environment is changed. MAVEN_ARGS=-o builds offline.

ROUNDS=5 STEPS=50 EPOCHS=3 WARMUP=1 BATCH=256 PARITY_BATCH=256 REPS=50
usage() { sed -n '5,6p' "$0" | sed 's/^# *//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in -h|--help) usage 0 ;; *) echo "ddp.sh: $1 needs a value" >&2; usage ;; esac
  case "$1" in
    --rounds) ROUNDS=$2 ;; --steps) STEPS=$2 ;; --epochs) EPOCHS=$2 ;; --warmup-epochs) WARMUP=$2 ;;
    --batch) BATCH=$2 ;; --parity-batch) PARITY_BATCH=$2 ;; --reps) REPS=$2 ;;
    -h|--help) usage 0 ;;
    *) echo "ddp.sh: unknown option $1" >&2; usage ;;
  esac
  shift 2
done
for v in "$ROUNDS" "$STEPS" "$EPOCHS" "$BATCH" "$PARITY_BATCH" "$REPS"; do
  case "$v" in ''|*[!0-9]*|0) echo "ddp.sh: option values must be positive integers, got '$v'" >&2; exit 2 ;; esac
done
case "$WARMUP" in ''|*[!0-9]*) echo "ddp.sh: --warmup-epochs must be a non-negative integer" >&2; exit 2 ;; esac
# Two ranks must fit in Fashion-MNIST's 60,000 training images.
if [ $((BATCH * 2 * STEPS)) -gt 60000 ] || [ $((PARITY_BATCH * 2 * STEPS)) -gt 60000 ]; then
  echo "ddp.sh: batch x 2 ranks x steps must be at most 60000 (the training set)" >&2; exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. System packages (bench/lib.sh): installed only as root, otherwise named.
bench_packages openmpi-bin libopenmpi-dev dataset-fashion-mnist
MPIRUN=$(command -v mpirun.openmpi || true)
[ -n "$MPIRUN" ] || { echo "ddp.sh: mpirun.openmpi not on PATH (apt-get install openmpi-bin)" >&2; exit 1; }

bench_jdk

# 2. Build (bench/lib.sh).
bench_classpath bench "$WORK"

# 3. The raw anchor: the wide MLP's gradient element count, summed by MPI_Allreduce alone.
FLOATS=$(( 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10 ))
ALLREDUCE=
if command -v mpicc >/dev/null 2>&1; then
  mpicc -O2 -o "$WORK/allreduce" bench/ddp/allreduce.c && ALLREDUCE=$WORK/allreduce
else
  echo "ddp.sh: mpicc not found (apt-get install libopenmpi-dev): skipping the raw MPI_Allreduce anchor" >&2
fi

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}
JVM=("$JAVA" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$CP" dev.kiln.bench.DdpBench)
MPI=("$MPIRUN" --allow-run-as-root --oversubscribe -np 2 --mca btl self,vader)
COMMON=(--steps "$STEPS" --warmup-epochs "$WARMUP" --epochs "$EPOCHS")

cpus=$(nproc)
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $cpus CPUs ($(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core)"
echo "java: $("$JAVA" -version 2>&1 | head -n 1); mpi: $("$MPIRUN" --version 2>&1 | head -n 1)"
echo "commands (CP = bench/target/classes and bench's runtime classpath; MASTER_PORT a free port per run; ${ROUNDS} rounds of: 1 process, 2 ranks, the pair without MPI, the raw anchor):"
echo "  1 process: ${JVM[*]/#$CP/\$CP} --out DIR --batch $BATCH ${COMMON[*]}"
echo "  2 ranks:   ${MPI[*]} -x MASTER_PORT=P ${JVM[*]/#$CP/\$CP} --out DIR --batch $BATCH ${COMMON[*]}"
echo "  no MPI:    the 1-process command twice at once (two independent trainings), after each 2-rank run"
echo "  parity:    the same, --batch $PARITY_BATCH (2 ranks) and --batch $((PARITY_BATCH * 2)) (1 process) --steps $STEPS --warmup-epochs 0 --epochs 1 --params true"
echo "  control:   1 process --batch $PARITY_BATCH --steps $((STEPS * 2)) --accumulation 2 --warmup-epochs 0 --epochs 1 --params true"
[ -n "$ALLREDUCE" ] && echo "  raw:       mpicc -O2 bench/ddp/allreduce.c; ${MPI[*]} allreduce $FLOATS $REPS 10   (after each round)"

# To tell afterwards how much of the machine other processes took while the runs ran (bench/lib.sh).
bench_load_start

failed=0
# run NAME WORLD ARGS...: one job, its output kept in $WORK/NAME.log and shown only if it fails.
run() {
  local name=$1 world=$2; shift 2
  local rc=0 start=$SECONDS
  if [ "$world" = 1 ]; then
    "${JVM[@]}" --out "$WORK/$name" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  else
    "${MPI[@]}" -x MASTER_PORT="$(free_port)" "${JVM[@]}" --out "$WORK/$name" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  fi
  if [ "$rc" != 0 ]; then
    echo "ddp.sh: $name failed (exit $rc):" >&2
    tail -n 40 "$WORK/$name.log" >&2
    failed=1
    rm -rf "${WORK:?}/$name"
  else
    echo "ddp.sh: $name ($((SECONDS - start)) s): $(grep '^rank ' "$WORK/$name.log" | sort | tr '\n' ' ')" >&2
  fi
}

# pair NAME ARGS...: two single processes at once, no MPI: what two ranks cost each other without communicating.
pair() {
  local name=$1; shift
  local rc0=0 rc1=0 start=$SECONDS
  "${JVM[@]}" --out "$WORK/$name/a" "$@" >"$WORK/$name-a.log" 2>&1 &
  local first=$!
  "${JVM[@]}" --out "$WORK/$name/b" "$@" >"$WORK/$name-b.log" 2>&1 || rc1=$?
  wait "$first" || rc0=$?
  if [ "$rc0" != 0 ] || [ "$rc1" != 0 ]; then
    echo "ddp.sh: $name failed (exit $rc0 and $rc1):" >&2
    tail -n 20 "$WORK/$name-a.log" "$WORK/$name-b.log" >&2
    failed=1
    rm -rf "${WORK:?}/$name"
  else
    mv "$WORK/$name/a/rank-0.tsv" "$WORK/$name/rank-0.tsv"
    mv "$WORK/$name/b/rank-0.tsv" "$WORK/$name/rank-1.tsv"
    echo "ddp.sh: $name ($((SECONDS - start)) s): $(cat "$WORK/$name-a.log" "$WORK/$name-b.log" | grep '^rank ' | tr '\n' ' ')" >&2
  fi
}

# The raw all-reduce with the same mpirun flags, once per round (the median of the rounds is taken).
anchor() {
  [ -n "$ALLREDUCE" ] || return 0
  if ! "${MPI[@]}" "$ALLREDUCE" "$FLOATS" "$REPS" 10 >"$WORK/allreduce-$1.txt" 2>"$WORK/allreduce-$1.log"; then
    echo "ddp.sh: the raw MPI_Allreduce run failed:" >&2
    cat "$WORK/allreduce-$1.log" >&2
    rm -f "$WORK/allreduce-$1.txt"
    failed=1
  else
    echo "ddp.sh: allreduce-$1: $(cat "$WORK/allreduce-$1.txt")" >&2
  fi
}

# 4. Throughput, alternated so that the machine's slow spells fall on both sides, and the anchor.
for i in $(seq 1 "$ROUNDS"); do
  run "one-$i" 1 --batch "$BATCH" "${COMMON[@]}"
  run "two-$i" 2 --batch "$BATCH" "${COMMON[@]}"
  pair "ind-$i" --batch "$BATCH" "${COMMON[@]}"
  anchor "$i"
done

# 5. Parity: one epoch of STEPS steps from the same initialisation on the same examples.
run parity-two 2 --batch "$PARITY_BATCH" --steps "$STEPS" --warmup-epochs 0 --epochs 1 --params true
run parity-one 1 --batch $((PARITY_BATCH * 2)) --steps "$STEPS" --warmup-epochs 0 --epochs 1 --params true
# The control: the same arithmetic change (two half-batch means averaged) without MPI, by gradient accumulation.
run parity-acc 1 --batch "$PARITY_BATCH" --steps $((STEPS * 2)) --warmup-epochs 0 --epochs 1 --params true --accumulation 2

bench_load_report

"$JAVA" -cp "$CP" dev.kiln.bench.DdpBench --summarize "$WORK"
exit "$failed"
