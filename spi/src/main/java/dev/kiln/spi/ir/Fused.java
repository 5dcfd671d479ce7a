package dev.kiln.spi.ir;

/**
 * A plugin-private op that a plugin's fusion pass puts in place of several nodes (matmul with its
 * bias and activation, an elementwise chain, ...). It never leaves the plugin's {@code compile}:
 * the runtime, autodiff and other plugins see only {@link Primitive}s and {@link Composite}s.
 * Non-sealed so each plugin defines its own records; the nodes it replaced are its definition,
 * which the conformance kit checks by compiling with fusion on and off.
 */
public non-sealed interface Fused extends Op {
}
