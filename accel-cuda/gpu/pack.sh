#!/bin/bash
# Packs what the GPU machine needs into .device/ (git-ignored, under the device tool's 64 MiB):
# a jlinked JRE, the test and example class path (linux-x86_64 natives, no -redist), the JUnit
# console launcher, Fashion-MNIST, and run.sh. Run from the repository root after
#   ./mvnw -q -pl accel-cuda,examples,bench -am install -DskipTests && ./mvnw -q -pl accel-cuda test-compile
set -euo pipefail
J=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64}
rm -rf .device && mkdir -p .device/lib .device/data/fashion-mnist
rm -rf /tmp/kiln-pack
"$J/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,jdk.incubator.vector,jdk.jfr,java.management \
  --strip-debug --no-header-files --no-man-pages --compress zip-9 --output /tmp/kiln-pack/jre
rm -f /tmp/kiln-pack/jre/lib/server/classes*.jsa
tar czf .device/jre.tgz -C /tmp/kiln-pack jre && rm -rf /tmp/kiln-pack
./mvnw -q -pl accel-cuda dependency:build-classpath -Dmdep.outputFile=/tmp/kiln-cuda-cp.txt -Dmdep.includeScope=test
./mvnw -q -pl examples dependency:build-classpath -Dmdep.outputFile=/tmp/kiln-ex-cp.txt -Dmdep.includeScope=runtime
# The console launcher brings JUnit; oneDNN's natives are not needed on the GPU machine.
(tr ':' '\n' < /tmp/kiln-cuda-cp.txt; echo; tr ':' '\n' < /tmp/kiln-ex-cp.txt; echo) | grep '\.jar$' | sort -u \
  | grep -vE -- '-redist|junit|opentest4j|apiguardian|dnnl-|opencl-|cuda-.*-linux-x86_64' | xargs -I{} cp {} .device/lib/
# Only the CUDA natives Kiln loads (cudart, cuBLAS, NVRTC, NCCL, cuDNN): 0.8 MB instead of 5.
CUDA_NATIVE=$(tr ':' '\n' < /tmp/kiln-cuda-cp.txt | grep 'cuda-.*-linux-x86_64.jar')
rm -rf /tmp/kiln-slim && mkdir /tmp/kiln-slim && (cd /tmp/kiln-slim && unzip -q "$CUDA_NATIVE" \
  && find . -name '*.so' | grep -vE 'jnicudart|jnicublas|jninvrtc|jninccl|jnicudnn' | xargs rm -f \
  && zip -q -r -9 "$OLDPWD/.device/lib/$(basename "$CUDA_NATIVE")" .) && rm -rf /tmp/kiln-slim
cp accel-cuda/target/kiln-accel-cuda-*.jar examples/target/kiln-examples-*.jar .device/lib/
# The GPT benchmark (gpt.sh): Kiln's side from the bench jar, PyTorch's from bench/gpt_torch.py.
if ls bench/target/kiln-bench-*.jar > /dev/null 2>&1; then cp bench/target/kiln-bench-*.jar .device/lib/; fi
cp bench/gpt_torch.py accel-cuda/gpu/gpt.sh .device/
cp -r accel-cuda/target/test-classes .device/test-classes
./mvnw -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1 -DoutputDirectory=.device
cp "${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}"/*.gz .device/data/fashion-mnist/
cp accel-cuda/gpu/run.sh .device/run.sh
du -sb .device
