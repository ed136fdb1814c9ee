package io.herd.ffi;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the CUDA shared libraries (libcudart, libcublas, libcuda). Search order: the configured directory, the
 * directories of LD_LIBRARY_PATH, the toolkit's usual places (/usr/local/cuda/lib64, /usr/local/cuda-X.Y/lib64 newest
 * first, /usr/local/nvidia/lib64, /usr/lib/x86_64-linux-gnu, /usr/lib64), then the nvidia-* Python wheel folders
 * (site-packages/nvidia/NAME/lib and site-packages/nvidia/cuNN/lib) of the usual Python installations. In one
 * directory the highest major version wins (libcublas.so.13 over libcublas.so.12 over libcublas.so).
 *
 * @param searchDirs directories in search order
 */
public record CudaLibraries(List<Path> searchDirs) {
    /** System property naming a directory searched first. */
    public static final String LIB_DIR_PROPERTY = "herd.cuda.lib-dir";
    /** Environment variable naming a directory searched first when the property is not set. */
    public static final String LIB_DIR_ENV = "HERD_CUDA_LIB_DIR";

    private static final Pattern VERSION = Pattern.compile("\\.so((?:\\.\\d+)*)$");

    public CudaLibraries {
        searchDirs = List.copyOf(searchDirs);
    }

    /** The search path of this process: the ffi layer is where native libraries are located, so it reads them here. */
    public static CudaLibraries fromEnvironment() {
        return of(System.getProperty(LIB_DIR_PROPERTY), System.getenv());
    }

    /** The search path for an explicit configured directory (may be null) and environment. */
    public static CudaLibraries of(String configuredDir, Map<String, String> env) {
        LinkedHashSet<Path> dirs = new LinkedHashSet<>();
        String dir = configuredDir != null && !configuredDir.isBlank() ? configuredDir : env.get(LIB_DIR_ENV);
        if (dir != null && !dir.isBlank()) dirs.add(Path.of(dir));
        String ld = env.getOrDefault("LD_LIBRARY_PATH", "");
        for (String part : ld.split(":")) if (!part.isBlank()) dirs.add(Path.of(part));
        String cudaHome = env.get("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) dirs.add(Path.of(cudaHome, "lib64"));
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.addAll(versionedToolkits(Path.of("/usr/local")));
        dirs.add(Path.of("/usr/local/nvidia/lib64"));
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        dirs.add(Path.of("/usr/lib64"));
        for (Path sitePackages : sitePackages(env)) dirs.addAll(nvidiaWheelDirs(sitePackages));
        return new CudaLibraries(new ArrayList<>(dirs));
    }

    /** The best file for {@code lib<name>.so*} along the search path, if any. */
    public Optional<Path> find(String name) {
        for (Path dir : searchDirs) {
            Optional<Path> hit = bestIn(dir, name);
            if (hit.isPresent()) return hit;
        }
        return Optional.empty();
    }

    /** The library file with the highest version in one directory. */
    static Optional<Path> bestIn(Path dir, String name) {
        if (!Files.isDirectory(dir)) return Optional.empty();
        String prefix = "lib" + name + ".so";
        List<Path> hits = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path f : files) {
                String file = f.getFileName().toString();
                if (file.equals(prefix) || (file.startsWith(prefix + ".") && VERSION.matcher(file).find())) hits.add(f);
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return hits.stream().max(Comparator.comparing((Path p) -> version(p.getFileName().toString()),
                CudaLibraries::compareVersions).thenComparing(p -> -p.getFileName().toString().length()));
    }

    /** Numeric version of a file name such as libcublas.so.13.1.0 → [13, 1, 0]; libcublas.so → []. */
    static int[] version(String file) {
        Matcher m = VERSION.matcher(file);
        if (!m.find() || m.group(1).isEmpty()) return new int[0];
        String[] parts = m.group(1).substring(1).split("\\.");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) v[i] = Integer.parseInt(parts[i]);
        return v;
    }

    static int compareVersions(int[] a, int[] b) {
        // Only the major version orders candidates: libX.so.13 and libX.so.13.1.0 are the same library.
        int ma = a.length == 0 ? -1 : a[0], mb = b.length == 0 ? -1 : b[0];
        return Integer.compare(ma, mb);
    }

    private static List<Path> versionedToolkits(Path root) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "cuda-*")) {
            for (Path p : ds) out.add(p.resolve("lib64"));
        } catch (IOException e) {
            return out;
        }
        out.sort(Comparator.comparing((Path p) -> p.getParent().getFileName().toString(),
                CudaLibraries::compareToolkitNames).reversed());
        return out;
    }

    private static int compareToolkitNames(String a, String b) {
        return compareDotted(a.substring("cuda-".length()), b.substring("cuda-".length()));
    }

    private static int compareDotted(String a, String b) {
        String[] x = a.split("\\."), y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int xi = i < x.length ? parseOr(x[i]) : 0, yi = i < y.length ? parseOr(y[i]) : 0;
            if (xi != yi) return Integer.compare(xi, yi);
        }
        return 0;
    }

    private static int parseOr(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** site-packages folders of the active virtual env and the usual system and /opt installations. */
    static List<Path> sitePackages(Map<String, String> env) {
        List<Path> roots = new ArrayList<>();
        String venv = env.get("VIRTUAL_ENV");
        if (venv != null && !venv.isBlank()) roots.add(Path.of(venv));
        String home = env.get("HOME");
        if (home != null && !home.isBlank()) roots.add(Path.of(home, ".local"));
        roots.add(Path.of("/usr/local"));
        roots.add(Path.of("/usr"));
        try (DirectoryStream<Path> opt = Files.newDirectoryStream(Path.of("/opt"))) {
            for (Path p : opt) {
                roots.add(p);
                roots.add(p.resolve(".venv"));
                roots.add(p.resolve("venv"));
            }
        } catch (IOException ignored) {
            // no /opt: nothing to add
        }
        List<Path> out = new ArrayList<>();
        for (Path root : roots) {
            Path lib = root.resolve("lib");
            if (!Files.isDirectory(lib)) continue;
            try (DirectoryStream<Path> pys = Files.newDirectoryStream(lib, "python3*")) {
                for (Path py : pys) {
                    for (String leaf : List.of("site-packages", "dist-packages")) {
                        Path sp = py.resolve(leaf);
                        if (Files.isDirectory(sp)) out.add(sp);
                    }
                }
            } catch (IOException ignored) {
                // unreadable: skip this root
            }
        }
        return out;
    }

    /** nvidia/NAME/lib and nvidia/cuNN/lib under one site-packages folder (the pip wheel layouts). */
    static List<Path> nvidiaWheelDirs(Path sitePackages) {
        List<Path> out = new ArrayList<>();
        Path nvidia = sitePackages.resolve("nvidia");
        if (!Files.isDirectory(nvidia)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(nvidia)) {
            List<Path> pkgs = new ArrayList<>();
            ds.forEach(pkgs::add);
            pkgs.sort(Comparator.comparing(Path::toString).reversed());  // cu13 before cu12
            for (Path pkg : pkgs) {
                if (Files.isDirectory(pkg.resolve("lib"))) out.add(pkg.resolve("lib"));
            }
        } catch (IOException ignored) {
            // unreadable: nothing found here
        }
        return out;
    }
}
