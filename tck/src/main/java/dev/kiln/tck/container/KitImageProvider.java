package dev.kiln.tck.container;

/**
 * The service a plugin's tests provide so that the container runner ({@code kiln-tck-containers})
 * can prove the plugin on a clean system: the image its conformance kit needs and what to run in
 * it. Registered in the test resources' {@code META-INF/services/dev.kiln.tck.container.KitImageProvider}
 * (tests run on the class path), next to the kit subclass it names:
 * <pre>{@code
 * public final class VendorKitImage implements KitImageProvider {
 *     @Override public KitImage image() { return KitImage.builder("vendor", VendorConformanceTest.class).build(); }
 * }
 * }</pre>
 * Construction must be cheap: the runner instantiates every provider it finds.
 */
public interface KitImageProvider {
    KitImage image();
}
