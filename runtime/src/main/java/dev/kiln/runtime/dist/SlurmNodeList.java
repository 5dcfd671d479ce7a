package dev.kiln.runtime.dist;

/**
 * The two pieces of Slurm's compressed lists that a rank needs. Host ranges such as
 * {@code node[01-04]} are not expanded: that needs {@code scontrol show hostnames}, and a
 * hand-written expander that is subtly wrong would point ranks at the wrong host.
 */
final class SlurmNodeList {
    private SlurmNodeList() {}

    /** The first host of {@code nodeList} when it starts with a plain name, else null. */
    static String firstPlainHost(String nodeList) {
        String first = nodeList.split(",", -1)[0].strip();
        if (first.isEmpty() || !first.matches("[A-Za-z0-9][A-Za-z0-9.-]*")) return null;
        return first;
    }

    /**
     * Tasks on node {@code node} from {@code SLURM_TASKS_PER_NODE}, e.g. {@code 2(x3),1}: three
     * nodes with 2 tasks, then one with 1.
     */
    static int tasksOnNode(String tasksPerNode, int node) {
        long seen = 0;
        for (String part : tasksPerNode.split(",", -1)) {
            String p = part.strip();
            int tasks, repeat = 1;
            try {
                int paren = p.indexOf('(');
                if (paren < 0) {
                    tasks = Integer.parseInt(p);
                } else {
                    if (!p.startsWith("(x", paren) || !p.endsWith(")")) throw new NumberFormatException(p);
                    tasks = Integer.parseInt(p.substring(0, paren));
                    repeat = Integer.parseInt(p.substring(paren + 2, p.length() - 1));
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("SLURM_TASKS_PER_NODE=" + tasksPerNode + " is not a list like 2(x3),1: '" + p + "'");
            }
            if (tasks < 1 || repeat < 1)
                throw new IllegalArgumentException("SLURM_TASKS_PER_NODE=" + tasksPerNode + " has a count below 1: '" + p + "'");
            if (node < seen + (long) repeat) return tasks;
            seen += repeat;
        }
        throw new IllegalArgumentException("SLURM_TASKS_PER_NODE=" + tasksPerNode + " lists " + seen
                + " nodes, but SLURM_NODEID=" + node);
    }
}
