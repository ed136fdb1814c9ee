package io.herd.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates files of the project tree for the deployment checks. */
final class ProjectFiles {

    private ProjectFiles() {
    }

    /** The project root: {@code herd.project.dir} when set (failsafe sets it), else the working directory (surefire's is the root). */
    static Path root() {
        String configured = System.getProperty("herd.project.dir");
        Path root = configured != null ? Path.of(configured) : Path.of("");
        return root.toAbsolutePath().normalize();
    }

    static Path resolve(String relative) {
        return root().resolve(relative);
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    static String read(String relative) {
        return read(resolve(relative));
    }

    /** True when the system property {@code herd.deploy.regenerate=true} asks the generator tests to rewrite their outputs. */
    static boolean regenerate() {
        return Boolean.getBoolean("herd.deploy.regenerate");
    }
}
