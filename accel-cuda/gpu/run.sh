#!/bin/bash
# On the GPU machine, from the repository root with .device carried (see pack.sh): nvidia-smi, the CUDA
# conformance kit and device tests, the seed MLP on cuda (fp32 batch 32 and 128, bf16-mixed), and
# PyTorch on the same GPU as the anchor. Logs go to $OUT.
nvidia-smi | head -12
cd .device && tar xzf jre.tgz
J=$PWD/jre/bin/java
SP=$(python3 -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
NV=$(ls -d $SP/nvidia/*/lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:$NV$LD_LIBRARY_PATH
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
CP=$(ls $PWD/lib/*.jar | tr '\n' ':')$PWD/test-classes
JOPTS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Dkiln.cuda.cache=/tmp/kiln-cubin"
start=$(date +%s)
[ -z "$SKIP_TCK" ] && timeout ${TCK_TIMEOUT:-420} $J $JOPTS -jar junit-platform-console-standalone-1.14.1.jar execute --disable-banner --details=tree \
  -cp "$CP" --select-class dev.kiln.accel.cuda.CudaRegistrationTest --select-class dev.kiln.accel.cuda.CudaDeviceTest \
  --select-class dev.kiln.accel.cuda.CudaFlashAttentionDeviceTest --select-class dev.kiln.accel.cuda.CudaCudnnDeviceTest \
  --select-class dev.kiln.accel.cuda.FlashAttentionAlgorithmTest \
  --select-class dev.kiln.accel.cuda.CudaConformanceTest --select-class dev.kiln.accel.cuda.CudaKernelSourcesTest > $OUT/tck.log 2>&1
echo "junit exit $? after $(( $(date +%s) - start )) s"
grep -E '✘|MethodSource|=>|Exception' $OUT/tck.log | head -60
grep -E 'cuda device:|attention timing|cudnn routes' $OUT/tck.log | head -8
tail -14 $OUT/tck.log
[ -n "$SKIP_MLP" ] && exit 0
start=$(date +%s)
for args in "--batch 32" "--batch 128" "--batch 32 --precision bf16-mixed"; do
  tag=$(echo $args | tr -d ' -')
  KILN_DATASETS=$PWD/data timeout ${MLP_TIMEOUT:-120} $J $JOPTS -cp "$CP" dev.kiln.examples.FashionMnistMlp --backend cuda --epochs 5 $args > $OUT/mlp-$tag.log 2>&1
  echo "== kiln mlp $args: exit $? after $(( $(date +%s) - start )) s"
  tr '\r' '\n' < $OUT/mlp-$tag.log | grep -E 'backend:|epoch [0-9]/|test accuracy|kiln:|Exception|at dev' | head -12
done
cd ..
for b in 32 128; do
  timeout 150 python3 bench/pytorch_mlp.py --device cuda --batch $b --epochs 5 --data-dir .device/data/fashion-mnist > $OUT/torch-$b.log 2>&1
  echo "== pytorch cuda batch $b: exit $?"; grep -E 'pytorch|epoch 5|test accuracy|Error' $OUT/torch-$b.log | head -6
done
