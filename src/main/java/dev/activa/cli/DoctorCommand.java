package dev.activa.cli;

import java.io.PrintStream;

/** Placeholder until the GPU runtime lands: the CUDA stack is not part of this build yet. */
public final class DoctorCommand {
    private DoctorCommand() {}

    public static int run(String[] args, PrintStream out, PrintStream err) {
        out.println("doctor: the CUDA backend is not part of this build yet");
        return 1;
    }
}
