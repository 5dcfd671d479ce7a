/**
 * Image datasets, kept out of dev.kiln.api because decoding PNG and JPEG takes javax.imageio, and
 * with it the java.desktop module, which an application embedding Kiln should not have to carry.
 */
module dev.kiln.images {
    requires transitive dev.kiln.api;
    requires java.desktop;
    exports dev.kiln.images;
}
