output "keda_namespace" {
  description = "Namespace KEDA runs in."
  value       = helm_release.keda.namespace
}

output "nvidia_device_plugin_installed" {
  description = "Whether this module installed the NVIDIA device plugin."
  value       = length(helm_release.nvidia_device_plugin) > 0
}
