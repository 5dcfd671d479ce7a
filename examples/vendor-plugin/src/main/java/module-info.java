/** An example vendor's accelerator. Exports nothing: Kiln reaches it through its provider only. */
module org.example.kiln.vendor {
    requires dev.kiln.spi;

    provides dev.kiln.spi.AcceleratorProvider with org.example.kiln.vendor.VendorProvider;
}
