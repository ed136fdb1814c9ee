package io.herd.deploy;

/** How GPU nodes are marked, the same in k8s/ (nodeSelector, tolerations) and infra-terraform/ (node labels, taints). */
final class GpuPool {

    static final String LABEL_KEY = "herd.io/pool";
    static final String LABEL_VALUE = "gpu";
    static final String TAINT_KEY = "nvidia.com/gpu";

    private GpuPool() {
    }
}
