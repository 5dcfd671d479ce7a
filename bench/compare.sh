#!/usr/bin/env bash
# Whole-program speed comparison: Kiln's Fashion-MNIST MLP example against the same model in
# PyTorch, same data files, batch, epochs and precision. Prints kiln/pytorch samples/s and
# their ratio. Usage:
#   bench/compare.sh [--epochs N] [--batch B] [--hidden 128[,64...]] [--precision fp32|bf16-mixed] [--backend onednn]
set -euo pipefail

EPOCHS=5 BATCH=64 HIDDEN=128 PRECISION=fp32 BACKEND=onednn
usage() { sed -n '2,5p' "$0" | sed 's/^# *//'; exit "${1:-2}"; }
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
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. System packages. Installed only as root; otherwise say what is missing and carry on,
#    so the later steps fail with their own, more precise, message if it matters.
missing=()
for pkg in python3-torch libopenblas0-pthread dataset-fashion-mnist; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "compare.sh: installing ${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "compare.sh: missing packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  fi
fi

# Debian's python3-torch lives under /usr/bin/python3, which a pyenv/venv python3 on PATH hides.
PYTHON=
for py in /usr/bin/python3 "$(command -v python3 || true)"; do
  if [ -n "$py" ] && "$py" -c 'import torch, numpy' 2>/dev/null; then PYTHON=$py; break; fi
done
[ -n "$PYTHON" ] || { echo "compare.sh: no python3 can import torch and numpy (apt-get install python3-torch)" >&2; exit 1; }

# The JDK the Maven wrapper and toolchain pick: the first /usr/lib/jvm/*25* with bin/java.
JAVA=
for d in /usr/lib/jvm/*25*; do
  if [ -x "$d/bin/java" ]; then JAVA=$d/bin/java; break; fi
done
[ -n "$JAVA" ] || { echo "compare.sh: no JDK 25 under /usr/lib/jvm (apt-get install temurin-25-jdk)" >&2; exit 1; }

# 2. Build Kiln. Packaging and build-classpath run in one reactor so the sibling modules
#    resolve to this build's jars; a separate '-pl examples' run would look for them in ~/.m2.
#    Every module writes the file; examples is last in reactor order, so its classpath stays.
#    A failed build or run is reported but PyTorch still runs, so its figure is never lost.
number() { sed -n "s/^$1: *\([0-9][0-9.eE+]*\) samples\/s.*/\1/p" "$2" | tail -n 1; }
KILN=
echo "compare.sh: building Kiln ..." >&2
if ./mvnw -q -pl examples -am package dependency:build-classpath -DskipTests \
     -Dmdep.includeScope=runtime -Dmdep.outputFile="$WORK/classpath.txt" >&2; then
  CP="examples/target/classes:$(cat "$WORK/classpath.txt")"
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

# 4. PyTorch, same model and options.
echo "compare.sh: PyTorch ($PYTHON)" >&2
set +e
"$PYTHON" bench/pytorch_mlp.py --epochs "$EPOCHS" --batch "$BATCH" --hidden "$HIDDEN" --precision "$PRECISION" \
  2>&1 | tee "$WORK/pytorch.log" >&2
torch_rc=${PIPESTATUS[0]}
set -e
TORCH=$(number pytorch "$WORK/pytorch.log")
[ "$torch_rc" = 0 ] && [ -n "$TORCH" ] || echo "compare.sh: PyTorch run failed (exit $torch_rc) or printed no samples/s line" >&2

echo "kiln: ${KILN:-n/a} samples/s"
echo "pytorch: ${TORCH:-n/a} samples/s"
if [ -n "$KILN" ] && [ -n "$TORCH" ]; then
  awk -v k="$KILN" -v t="$TORCH" 'BEGIN { printf "ratio: %.2f\n", k / t }'
else
  echo "ratio: n/a"
  exit 1
fi
