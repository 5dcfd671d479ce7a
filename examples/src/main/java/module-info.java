/** Runnable programs that show Kiln in use. */
module dev.kiln.examples {
    requires dev.kiln.api;
}
