package dev.kiln.spi.ir;

import java.util.List;

/** One operation applied to values; immutable, so a pass that changes it makes a new one. */
public record Node(Op op, List<Value> inputs, List<Value> outputs) {
    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public Value output() { return outputs.getFirst(); }

    /** The op and its operand types, for messages: {@code matmul(f32[2, 3], f32[3, 4]) -> f32[2, 4]}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(op.toString()).append('(');
        for (int i = 0; i < inputs.size(); i++) sb.append(i == 0 ? "" : ", ").append(inputs.get(i).type());
        sb.append(") -> ");
        for (int i = 0; i < outputs.size(); i++) sb.append(i == 0 ? "" : ", ").append(outputs.get(i).type());
        return sb.toString();
    }

    /**
     * Checks the declared output types against the op's own inference. Kernels size memory by the
     * declared types, so a hand-built node that disagrees must fail here, with an
     * {@link IllegalArgumentException} naming the op, rather than corrupt memory later.
     */
    public void checkTypes() {
        List<TensorType> declared = outputs.stream().map(Value::type).toList(), inferred;
        try {
            inferred = op.infer(inputs.stream().map(Value::type).toList());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("in node " + describe() + ": " + e.getMessage(), e);
        }
        if (!declared.equals(inferred)) {
            throw new IllegalArgumentException(op.opName() + ": node " + describe() + " declares outputs " + declared + " but its inputs give " + inferred);
        }
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < outputs.size(); i++) sb.append(i == 0 ? "" : ", ").append(outputs.get(i));
        sb.append(" = ").append(op).append('(');
        for (int i = 0; i < inputs.size(); i++) sb.append(i == 0 ? "" : ", ").append('%').append(inputs.get(i).id());
        return sb.append(')').toString();
    }
}
