package dev.kiln.accel.onednn;

import dev.kiln.tck.container.KitImage;
import dev.kiln.tck.container.KitImageProvider;

/**
 * The image the oneDNN kit runs in: bare Debian and nothing else, since oneDNN, its OpenMP
 * runtime and JavaCPP's loaders come in the plugin's native jars; the Vector API for the
 * optimizer loops.
 */
public final class OneDnnKitImage implements KitImageProvider {
    @Override public KitImage image() {
        return KitImage.builder("onednn", OneDnnConformanceTest.class)
                .jvmOptions("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss4m")
                .build();
    }
}
