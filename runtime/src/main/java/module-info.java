/** Plugin discovery, tracing, autodiff, graph passes and execution. Not for users: they see dev.kiln.api. */
module dev.kiln.runtime {
    requires transitive dev.kiln.spi;
    exports dev.kiln.runtime.autodiff to dev.kiln.api, dev.kiln.tck;
    exports dev.kiln.runtime.backend to dev.kiln.api;
    exports dev.kiln.runtime.exec to dev.kiln.api;
    exports dev.kiln.runtime.trace to dev.kiln.api;
    exports dev.kiln.runtime.dist to dev.kiln.api, dev.kiln.tck;
    uses dev.kiln.spi.AcceleratorProvider;
}
