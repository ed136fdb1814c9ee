output "keda_namespace" {
  description = "Namespace KEDA runs in."
  value       = helm_release.keda.namespace
}

output "nvidia_device_plugin_installed" {
  description = "Whether this module installed the NVIDIA device plugin."
  value       = length(helm_release.nvidia_device_plugin) > 0
}

output "grafana_namespace" {
  description = "Namespace of Grafana (kubectl -n ... port-forward svc/kube-prometheus-stack-grafana 3000:80), or null when monitoring is not installed."
  value       = length(helm_release.monitoring) > 0 ? helm_release.monitoring[0].namespace : null
}
