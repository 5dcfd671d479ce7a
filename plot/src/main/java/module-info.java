/**
 * Training-curve plots, kept out of dev.kiln.api so that an application embedding Kiln carries no
 * drawing code it does not use. SVG and HTML written as text: needs java.base only.
 */
module dev.kiln.plot {
    requires transitive dev.kiln.api;
    exports dev.kiln.plot;
}
