#!/bin/bash
# GPT-style decoder, 6 layers, d 512, 8 heads, seq 256, batch 32, bf16-mixed: Kiln (cuda) then PyTorch eager+autocast and torch.compile.
nvidia-smi | sed -n 9,10p
cd .device && tar xzf jre.tgz
J=$PWD/jre/bin/java
SP=$(python3 -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
NV=$(ls -d $SP/nvidia/*/lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:$NV$LD_LIBRARY_PATH
CP=$(ls $PWD/lib/*.jar | tr '\n' ':')
start=$(date +%s)
timeout ${KILN_TIMEOUT:-300} $J --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Dkiln.cuda.cache=/tmp/kiln-cubin $KILN_JAVA_OPTS \
  -cp "$CP" dev.kiln.bench.GptBench --backend cuda "$@" > $OUT/kiln-gpt.log 2>&1
echo "kiln exit $? after $(( $(date +%s) - start )) s"; grep -vE "WARNING" $OUT/kiln-gpt.log | tail -${KILN_TAIL:-6}
[ -n "$SKIP_TORCH" ] && exit 0
start=$(date +%s)
timeout ${TORCH_TIMEOUT:-200} python3 gpt_torch.py --modes ${TORCH_MODES:-eager,compile} "$@" > $OUT/torch-gpt.log 2>&1
echo "torch exit $? after $(( $(date +%s) - start )) s"; grep -E "pytorch|torch-" $OUT/torch-gpt.log | tail -4
