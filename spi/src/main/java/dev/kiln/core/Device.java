package dev.kiln.core;

/** One device of an accelerator: {@code cpu:0}, {@code cuda:1}. */
public record Device(String kind, int index, String description) {
    @Override public String toString() { return kind + ":" + index + " (" + description + ")"; }
}
