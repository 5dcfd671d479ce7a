package dev.kiln.accel.xla;

import dev.kiln.tck.container.KitImage;
import dev.kiln.tck.container.KitImageProvider;

/**
 * The image the XLA kit runs in: XLA's CPU compiler from TensorFlow's native jar, which the
 * module's tests depend on, on bare Debian; a PJRT plugin (libtpu, the CUDA plugin) is a host's
 * own and is not in the image. TensorFlow's library unpacks to 680 MB, so the kit gets longer.
 */
public final class XlaKitImage implements KitImageProvider {
    @Override public KitImage image() {
        return KitImage.builder("xla", XlaConformanceTest.class)
                .alsoRun(PjrtConformanceTest.class)
                .jvmOptions("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss4m")
                .timeout(java.time.Duration.ofMinutes(40))
                .build();
    }
}
