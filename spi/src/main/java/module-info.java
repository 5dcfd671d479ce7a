/** The vendor contract: value types, the graph IR, and the accelerator plugin interfaces. */
module dev.kiln.spi {
    exports dev.kiln.core;
    exports dev.kiln.spi;
    exports dev.kiln.spi.ir;
    exports dev.kiln.spi.fusion;
}
