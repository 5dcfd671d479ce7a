/** Plugin discovery, tracing, autodiff, graph passes and execution. Not for users: they see dev.kiln.api. */
module dev.kiln.runtime {
    requires transitive dev.kiln.spi;
    exports dev.kiln.runtime.autodiff to dev.kiln.api, dev.kiln.tck;
    uses dev.kiln.spi.AcceleratorProvider;
}
