package dev.kiln.runtime.dist;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LaunchEnvironmentTest {
    private static Map<String, String> env(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    private static String failure(Map<String, String> env) {
        return assertThrows(IllegalArgumentException.class, () -> LaunchEnvironment.parse(env)).getMessage();
    }

    @Test void nothingSetIsRankZeroOfOne() {
        ProcessGroupSpec s = LaunchEnvironment.parse(env("PATH", "/bin"));
        assertEquals(new ProcessGroupSpec(0, 1, 0, 1, "127.0.0.1", 29500, Launcher.NONE, 0), s);
        assertTrue(s.isMain());
    }

    @Test void torchrun() {
        ProcessGroupSpec s = LaunchEnvironment.parse(env("RANK", "5", "WORLD_SIZE", "8", "LOCAL_RANK", "1", "LOCAL_WORLD_SIZE", "4",
                "MASTER_ADDR", "node-a", "MASTER_PORT", "29400", "TORCHELASTIC_RESTART_COUNT", "2"));
        assertEquals(new ProcessGroupSpec(5, 8, 1, 4, "node-a", 29400, Launcher.TORCHRUN, 2), s);
        assertFalse(s.isMain());
    }

    @Test void pytorchEnvRulesWithoutLocalVariablesMeanOneProcessPerHost() {
        ProcessGroupSpec s = LaunchEnvironment.parse(env("RANK", "1", "WORLD_SIZE", "2", "MASTER_ADDR", "10.0.0.1", "MASTER_PORT", "1234"));
        assertEquals(new ProcessGroupSpec(1, 2, 0, 1, "10.0.0.1", 1234, Launcher.TORCHRUN, 0), s);
    }

    @Test void torchrunOfSeveralNeedsMasterAddressAndPort() {
        assertEquals("MASTER_ADDR is not set", failure(env("RANK", "0", "WORLD_SIZE", "2", "MASTER_PORT", "1")));
        assertEquals("MASTER_PORT is not set", failure(env("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h")));
        assertEquals("WORLD_SIZE is not set", failure(env("RANK", "0")));
        assertEquals("LOCAL_WORLD_SIZE is not set", failure(env("RANK", "0", "WORLD_SIZE", "1", "LOCAL_RANK", "0")));
    }

    @Test void openMpiOnOneHostUsesLoopback() {
        ProcessGroupSpec s = LaunchEnvironment.parse(env("OMPI_COMM_WORLD_RANK", "1", "OMPI_COMM_WORLD_SIZE", "2",
                "OMPI_COMM_WORLD_LOCAL_RANK", "1", "OMPI_COMM_WORLD_LOCAL_SIZE", "2", "PMIX_RANK", "1"));
        assertEquals(new ProcessGroupSpec(1, 2, 1, 2, "127.0.0.1", 29500, Launcher.OPEN_MPI, 0), s);
    }

    @Test void openMpiOverSeveralHostsNeedsMasterAddress() {
        Map<String, String> e = env("OMPI_COMM_WORLD_RANK", "3", "OMPI_COMM_WORLD_SIZE", "4",
                "OMPI_COMM_WORLD_LOCAL_RANK", "1", "OMPI_COMM_WORLD_LOCAL_SIZE", "2");
        assertTrue(failure(e).contains("needs MASTER_ADDR"), failure(e));
        e.put("MASTER_ADDR", "head");
        e.put("MASTER_PORT", "4000");
        assertEquals(new ProcessGroupSpec(3, 4, 1, 2, "head", 4000, Launcher.OPEN_MPI, 0), LaunchEnvironment.parse(e));
    }

    @Test void mpich() {
        assertEquals(new ProcessGroupSpec(1, 2, 1, 2, "127.0.0.1", 29500, Launcher.MPICH, 0),
                LaunchEnvironment.parse(env("PMI_RANK", "1", "PMI_SIZE", "2", "MPI_LOCALRANKID", "1", "MPI_LOCALNRANKS", "2")));
        // Without the local variables nothing says the ranks share a host: an address is required.
        assertTrue(failure(env("PMI_RANK", "1", "PMI_SIZE", "2")).contains("needs MASTER_ADDR"));
        assertEquals(new ProcessGroupSpec(1, 2, 0, 1, "h", 29500, Launcher.MPICH, 0),
                LaunchEnvironment.parse(env("PMI_RANK", "1", "PMI_SIZE", "2", "MASTER_ADDR", "h")));
        assertEquals("MPI_LOCALNRANKS is not set", failure(env("PMI_RANK", "0", "PMI_SIZE", "2", "MPI_LOCALRANKID", "0")));
    }

    @Test void slurmTakesNodeCountFromTasksPerNodeAndAddressFromAPlainNodeList() {
        ProcessGroupSpec s = LaunchEnvironment.parse(env("SLURM_PROCID", "5", "SLURM_NTASKS", "7", "SLURM_LOCALID", "1",
                "SLURM_NODEID", "2", "SLURM_TASKS_PER_NODE", "2(x3),1", "SLURM_JOB_NODELIST", "gpu7,gpu8", "SLURM_RESTART_COUNT", "1"));
        assertEquals(new ProcessGroupSpec(5, 7, 1, 2, "gpu7", 29500, Launcher.SLURM, 1), s);
        ProcessGroupSpec last = LaunchEnvironment.parse(env("SLURM_PROCID", "6", "SLURM_NTASKS", "7", "SLURM_LOCALID", "0",
                "SLURM_NODEID", "3", "SLURM_TASKS_PER_NODE", "2(x3),1", "MASTER_ADDR", "m", "SLURM_JOB_NODELIST", "gpu7"));
        assertEquals(1, last.localWorldSize());
        assertEquals("m", last.masterAddr());
    }

    @Test void slurmHostRangesAreNotGuessed() {
        String m = failure(env("SLURM_PROCID", "0", "SLURM_NTASKS", "4", "SLURM_LOCALID", "0",
                "SLURM_NTASKS_PER_NODE", "2", "SLURM_JOB_NODELIST", "gpu[01-02]"));
        assertTrue(m.contains("needs MASTER_ADDR") && m.contains("plain host name"), m);
        assertTrue(failure(env("SLURM_PROCID", "0", "SLURM_NTASKS", "4", "SLURM_LOCALID", "0"))
                .contains("number of tasks on this node is unknown"));
        assertTrue(failure(env("SLURM_PROCID", "0", "SLURM_NTASKS", "4", "SLURM_LOCALID", "0", "SLURM_NODEID", "9",
                "SLURM_TASKS_PER_NODE", "2(x2)", "MASTER_ADDR", "m")).contains("lists 2 nodes, but SLURM_NODEID=9"));
        assertTrue(failure(env("SLURM_PROCID", "0", "SLURM_NTASKS", "4", "SLURM_LOCALID", "0", "SLURM_NODEID", "0",
                "SLURM_TASKS_PER_NODE", "2(3)", "MASTER_ADDR", "m")).contains("is not a list like 2(x3),1"));
    }

    @Test void precedenceIsTorchrunThenMpiThenSlurm() {
        Map<String, String> e = env("SLURM_PROCID", "0", "SLURM_NTASKS", "1", "SLURM_LOCALID", "0",
                "PMI_RANK", "0", "PMI_SIZE", "1",
                "OMPI_COMM_WORLD_RANK", "0", "OMPI_COMM_WORLD_SIZE", "1", "OMPI_COMM_WORLD_LOCAL_RANK", "0", "OMPI_COMM_WORLD_LOCAL_SIZE", "1",
                "RANK", "0", "WORLD_SIZE", "1");
        assertEquals(Launcher.TORCHRUN, LaunchEnvironment.parse(e).launcher());
        e.remove("RANK");
        e.remove("WORLD_SIZE");
        assertEquals(Launcher.OPEN_MPI, LaunchEnvironment.parse(e).launcher());
        e.remove("OMPI_COMM_WORLD_RANK");
        e.remove("OMPI_COMM_WORLD_SIZE");
        assertEquals(Launcher.MPICH, LaunchEnvironment.parse(e).launcher());
        e.remove("PMI_RANK");
        e.remove("PMI_SIZE");
        assertEquals(Launcher.SLURM, LaunchEnvironment.parse(e).launcher());
    }

    @Test void everyBadValueNamesItsVariable() {
        assertEquals("WORLD_SIZE=two is not an integer", failure(env("RANK", "0", "WORLD_SIZE", "two")));
        assertEquals("RANK=4 is outside [0, 3], WORLD_SIZE=4",
                failure(env("RANK", "4", "WORLD_SIZE", "4", "MASTER_ADDR", "h", "MASTER_PORT", "1")));
        assertEquals("RANK=-1 is outside [0, 3], WORLD_SIZE=4",
                failure(env("RANK", "-1", "WORLD_SIZE", "4", "MASTER_ADDR", "h", "MASTER_PORT", "1")));
        assertEquals("WORLD_SIZE=0 is outside [1, 2147483647]", failure(env("RANK", "0", "WORLD_SIZE", "0")));
        assertEquals("MASTER_PORT=70000 is outside [1, 65535]",
                failure(env("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "70000")));
        assertEquals("MASTER_PORT=0 is outside [1, 65535]",
                failure(env("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "0")));
        assertEquals("OMPI_COMM_WORLD_LOCAL_RANK=2 is outside [0, 1], OMPI_COMM_WORLD_LOCAL_SIZE=2",
                failure(env("OMPI_COMM_WORLD_RANK", "0", "OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_LOCAL_RANK", "2", "OMPI_COMM_WORLD_LOCAL_SIZE", "2")));
        assertEquals("OMPI_COMM_WORLD_LOCAL_SIZE=3 is outside [1, 2]",
                failure(env("OMPI_COMM_WORLD_RANK", "0", "OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_LOCAL_RANK", "0", "OMPI_COMM_WORLD_LOCAL_SIZE", "3")));
        assertEquals("TORCHELASTIC_RESTART_COUNT=x is not an integer", failure(env("RANK", "0", "WORLD_SIZE", "1", "TORCHELASTIC_RESTART_COUNT", "x")));
        assertEquals("SLURM_PROCID=99999999999 is outside [0, 0], SLURM_NTASKS=1",
                failure(env("SLURM_PROCID", "99999999999", "SLURM_NTASKS", "1", "SLURM_LOCALID", "0")));
    }

    @Test void theRecordChecksExplicitValuesToo() {
        assertThrows(IllegalArgumentException.class, () -> ProcessGroupSpec.of(2, 2, "h", 1));
        assertThrows(IllegalArgumentException.class, () -> ProcessGroupSpec.of(0, 0, "h", 1));
        assertThrows(IllegalArgumentException.class, () -> ProcessGroupSpec.of(0, 1, "h", 65536));
        assertThrows(IllegalArgumentException.class, () -> ProcessGroupSpec.of(0, 1, " ", 1));
        assertThrows(IllegalArgumentException.class, () -> new ProcessGroupSpec(0, 2, 1, 1, "h", 1, Launcher.EXPLICIT, 0));
        assertThrows(IllegalArgumentException.class, () -> new ProcessGroupSpec(0, 2, 0, 3, "h", 1, Launcher.EXPLICIT, 0));
        assertEquals(0, ProcessGroupSpec.of(0, 1, "h", 0).masterPort());
    }
}
