package dev.kiln.spi.ir;

import java.util.List;

/** One operation applied to values; immutable, so a pass that changes it makes a new one. */
public record Node(Op op, List<Value> inputs, List<Value> outputs) {
    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public Value output() { return outputs.getFirst(); }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < outputs.size(); i++) sb.append(i == 0 ? "" : ", ").append(outputs.get(i));
        sb.append(" = ").append(op).append('(');
        for (int i = 0; i < inputs.size(); i++) sb.append(i == 0 ? "" : ", ").append('%').append(inputs.get(i).id());
        return sb.append(')').toString();
    }
}
