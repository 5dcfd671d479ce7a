#!/bin/bash
# Compiles every CUDA C kernel the plugin generates with NVRTC, on a machine without a GPU:
# NVRTC needs no device. Takes libnvrtc from bytedeco's cuda-redist jar (380 MB, downloaded once
# into ~/.kiln/nvrtc) and gives the JNI bindings an empty libcuda.so.1 to link against (the
# driver is never called). Then runs CudaKernelSourcesTest, which otherwise skips here.
set -euo pipefail
DIR=${KILN_NVRTC_DIR:-$HOME/.kiln/nvrtc}
JAR=https://repo.maven.apache.org/maven2/org/bytedeco/cuda-redist/13.1-9.19-1.5.13/cuda-redist-13.1-9.19-1.5.13-linux-x86_64.jar
mkdir -p "$DIR"
if [ ! -f "$DIR/libnvrtc.so.13" ]; then
  curl -sfL -o "$DIR/redist.jar" "$JAR"
  (cd "$DIR" && unzip -o -q -j redist.jar 'org/bytedeco/cuda/linux-x86_64/libnvrtc*' 'org/bytedeco/cuda/linux-x86_64/libcudart.so.13' && rm redist.jar)
fi
[ -f "$DIR/libcuda.so.1" ] || (echo "" > "$DIR/empty.c" && cc -shared -o "$DIR/libcuda.so.1" "$DIR/empty.c" -Wl,-soname,libcuda.so.1)
LD_LIBRARY_PATH="$DIR" ./mvnw -q -pl accel-cuda -am test -Dtest=CudaKernelSourcesTest -Dsurefire.failIfNoSpecifiedTests=false "$@"
echo "every generated kernel compiled with NVRTC (sm_90 CUBIN)"
