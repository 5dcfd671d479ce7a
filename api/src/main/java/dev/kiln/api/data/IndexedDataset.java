package dev.kiln.api.data;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;

/** A view of another dataset through an index table (subsets and splits share the parent's memory). */
final class IndexedDataset implements Dataset {
    private final Dataset parent;
    private final int[] indices;

    IndexedDataset(Dataset parent, int[] indices) {
        for (int i : indices) {
            if (i < 0 || i >= parent.size()) {
                throw new IndexOutOfBoundsException("subset index " + i + " outside dataset of size " + parent.size());
            }
        }
        this.parent = parent;
        this.indices = indices;
    }

    @Override public int size() { return indices.length; }
    @Override public Shape exampleShape() { return parent.exampleShape(); }
    @Override public int numClasses() { return parent.numClasses(); }
    @Override public void features(int index, float[] dst, int offset) { parent.features(indices[index], dst, offset); }
    @Override public int label(int index) { return parent.label(indices[index]); }
    @Override public DType targetType() { return parent.targetType(); }
    @Override public Shape targetShape() { return parent.targetShape(); }
    @Override public void target(int index, int[] dst, int offset) { parent.target(indices[index], dst, offset); }
    @Override public void target(int index, float[] dst, int offset) { parent.target(indices[index], dst, offset); }
    @Override public String toString() { return "subset of " + indices.length + " of " + parent; }
}
