variable "install_nvidia_device_plugin" {
  description = "Install NVIDIA's device plugin, which advertises nvidia.com/gpu. Needed on EKS AL2023 NVIDIA nodes; not on Bottlerocket NVIDIA or GKE, which bring their own."
  type        = bool
  default     = true
}

variable "nvidia_device_plugin_version" {
  description = "Chart version of nvidia-device-plugin (https://nvidia.github.io/k8s-device-plugin)."
  type        = string
  default     = "0.17.4"
  validation {
    condition     = can(regex("^\\d+\\.\\d+\\.\\d+$", var.nvidia_device_plugin_version))
    error_message = "nvidia_device_plugin_version must be a chart version like 0.17.4."
  }
}

variable "keda_version" {
  description = "Chart version of KEDA (https://kedacore.github.io/charts); 2.17+ has the Kafka scaler fields Herd's ScaledObject uses."
  type        = string
  default     = "2.17.2"
  validation {
    condition     = can(regex("^2\\.(1[7-9]|[2-9][0-9])\\.\\d+$", var.keda_version))
    error_message = "keda_version must be 2.17.0 or newer."
  }
}

variable "gpu_node_selector" {
  description = "Node labels of the GPU pool; the device plugin runs only there."
  type        = map(string)
  default = {
    "herd.io/pool" = "gpu"
  }
}

variable "gpu_taint_key" {
  description = "Taint key on GPU nodes that the device plugin must tolerate."
  type        = string
  default     = "nvidia.com/gpu"
}

variable "install_monitoring" {
  description = "Install kube-prometheus-stack. k8s/base contains a ServiceMonitor, whose CRD must exist before kubectl apply -k; turn this off only where the Prometheus Operator is already installed."
  type        = bool
  default     = true
}

variable "kube_prometheus_stack_version" {
  description = "Chart version of kube-prometheus-stack (https://prometheus-community.github.io/helm-charts)."
  type        = string
  default     = "77.0.0"
  validation {
    condition     = can(regex("^\\d+\\.\\d+\\.\\d+$", var.kube_prometheus_stack_version))
    error_message = "kube_prometheus_stack_version must be a chart version like 77.0.0."
  }
}
