package dev.kiln.api.nn;

import dev.kiln.api.Kiln;
import dev.kiln.api.internal.Internal;

/** Draws initialisation seeds from the Kiln's own seeded stream, so a run is reproducible. */
final class Seeds {
    private Seeds() {}

    static long next(Kiln kiln) { return Internal.access().nextSeed(kiln); }
}
