package io.herd.app;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;

/**
 * Writes the deterministic demo checkpoint. The generator ({@code io.herd.model.DemoModel.write(Path)}) is built on
 * another branch; until it is merged this seam reaches it by name so the service compiles without it and says
 * clearly what is missing.
 */
final class DemoModelSeam {

    private DemoModelSeam() {}

    static void write(Path dir) {
        try {
            Class<?> generator = Class.forName("io.herd.model.DemoModel");
            generator.getMethod("write", Path.class).invoke(null, dir);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new IllegalStateException("no demo model generator in this build (io.herd.model.DemoModel.write(Path));"
                    + " set herd.model.dir / HERD_MODEL_DIR to a checkpoint folder", e);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("io.herd.model.DemoModel.write(Path) is not accessible", e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("writing the demo model into " + dir + " failed: " + e.getCause().getMessage(), e.getCause());
        }
    }
}
