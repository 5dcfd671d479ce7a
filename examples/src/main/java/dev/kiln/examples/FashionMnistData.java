package dev.kiln.examples;

import dev.kiln.api.data.DatasetException;
import dev.kiln.api.data.FashionMnist;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What the examples do before training, as {@code keras.datasets} does on a first run: get
 * Fashion-MNIST when no default place has it. As root on Debian, with its package (where the
 * data then lives for every user and for .ci/run); otherwise with {@link FashionMnist#download()}.
 * This is the program's choice, not the library's: an application embedding Kiln must not install
 * packages or reach the network unasked, so dev.kiln.api.data only downloads when called to.
 */
final class FashionMnistData {
    static final String PACKAGE = "dataset-fashion-mnist";

    private FashionMnistData() {}

    /** The steps {@link #ensure(Machine, PrintStream)} takes, replaceable so tests need no root, apt or network. */
    interface Machine {
        Optional<Path> location();

        /** Root, with apt-get on the PATH. */
        boolean canInstallPackages();

        /** Installs {@link #PACKAGE}; the exit status. */
        int installPackage() throws IOException, InterruptedException;

        Path download();
    }

    /** Where the data is, after getting it if need be; a DatasetException (with the how-to) when it cannot be had. */
    static Path ensure() { return ensure(new ThisMachine(), System.err); }

    static Path ensure(Machine m, PrintStream log) {
        Optional<Path> here = m.location();
        if (here.isPresent()) return here.get();
        if (m.canInstallPackages()) {
            log.println("Fashion-MNIST is not installed; running as root, so installing the Debian package " + PACKAGE);
            String why;
            try {
                why = "exit status " + m.installPackage();
            } catch (IOException e) {
                why = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DatasetException(null, "interrupted while installing " + PACKAGE, e);
            }
            here = m.location();
            if (here.isPresent()) return here.get();
            log.println("apt-get did not install " + PACKAGE + " (" + why + "); downloading the files instead");
        } else {
            log.println("Fashion-MNIST is not installed; downloading it (once)");
        }
        return m.download();
    }

    /**
     * Runs an example; when the data cannot be had (or a file is corrupt) the program ends with the
     * message, which says what to install or where to put the files, and status 1: a stack trace
     * would only bury it.
     */
    static int run(Runnable example, PrintStream err) {
        try {
            example.run();
            return 0;
        } catch (DatasetException e) {
            err.println();
            err.println(e.getMessage());
            return 1;
        }
    }

    /** {@link #run} for a main method: exits with the status when it is not 0. */
    static void runOrExit(Runnable example) {
        int status = run(example, System.err);
        if (status != 0) System.exit(status);
    }

    static final class ThisMachine implements Machine {
        @Override public Optional<Path> location() { return FashionMnist.location(); }

        @Override public boolean canInstallPackages() { return isRoot() && onPath("apt-get"); }

        @Override public int installPackage() throws IOException, InterruptedException {
            // --reinstall: dpkg may list the package while its files are gone; a first install is unaffected.
            int status = apt("install", "-y", "-q", "--reinstall", PACKAGE);
            if (status != 0) {
                // A fresh image often has no package lists at all.
                apt("update", "-q");
                status = apt("install", "-y", "-q", "--reinstall", PACKAGE);
            }
            return status;
        }

        @Override public Path download() { return FashionMnist.download(); }

        private static int apt(String... args) throws IOException, InterruptedException {
            String[] cmd = new String[args.length + 1];
            cmd[0] = "apt-get";
            System.arraycopy(args, 0, cmd, 1, args.length);
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            return pb.start().waitFor();
        }

        static boolean isRoot() {
            try {
                // The owner of /proc/self is this process's user; user.name can be "?" in a container without a passwd entry.
                return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return "root".equals(System.getProperty("user.name"));
            }
        }

        static boolean onPath(String program) {
            String path = System.getenv("PATH");
            if (path == null) return false;
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) return true;
            }
            return false;
        }
    }
}
