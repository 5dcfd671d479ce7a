/**
 * StableHLO run by XLA's CPU compiler through TensorFlow's C API, bound with FFM: no JNI and no
 * TensorFlow Java classes, only the shared libraries of {@code org.tensorflow:tensorflow-core-native}
 * ({@link dev.kiln.accel.xla.tf.TfNative} finds and loads them, and
 * {@link dev.kiln.accel.xla.tf.XlaCallModuleExecutor} runs a module).
 *
 * <p>Running this code needs native access ({@code --enable-native-access=ALL-UNNAMED} on the class
 * path, {@code =dev.kiln.accel.xla} on the module path; without it the JDK warns). TensorFlow and
 * XLA log to stderr on their own (a few INFO lines on load and on the first compile), and that is
 * also where MLIR's parse diagnostics go.
 */
package dev.kiln.accel.xla.tf;
