# Cluster add-ons Herd needs: the NVIDIA device plugin (nvidia.com/gpu resources), KEDA (Kafka-lag autoscaling) and,
# unless turned off, kube-prometheus-stack (the ServiceMonitor CRD, Prometheus, Grafana with the dashboard sidecar).

resource "helm_release" "nvidia_device_plugin" {
  count            = var.install_nvidia_device_plugin ? 1 : 0
  name             = "nvidia-device-plugin"
  repository       = "https://nvidia.github.io/k8s-device-plugin"
  chart            = "nvidia-device-plugin"
  version          = var.nvidia_device_plugin_version
  namespace        = "nvidia-device-plugin"
  create_namespace = true

  values = [yamlencode({
    nodeSelector = var.gpu_node_selector
    tolerations = [{
      key      = var.gpu_taint_key
      operator = "Exists"
      effect   = "NoSchedule"
    }]
  })]
}

resource "helm_release" "keda" {
  name             = "keda"
  repository       = "https://kedacore.github.io/charts"
  chart            = "keda"
  version          = var.keda_version
  namespace        = "keda"
  create_namespace = true

  # KEDA's operator metrics (keda_scaler_metrics_value) feed the lag panel of Herd's dashboard.
  values = [yamlencode({
    prometheus = {
      operator = {
        enabled = true
        serviceMonitor = {
          enabled = var.install_monitoring
          additionalLabels = {
            release = "kube-prometheus-stack"
          }
        }
      }
    }
  })]

  depends_on = [helm_release.monitoring]
}

# Release name and namespace are what k8s/base expects: ServiceMonitor label release=kube-prometheus-stack, and the
# NetworkPolicy admits scrapes from namespace "monitoring".
resource "helm_release" "monitoring" {
  count            = var.install_monitoring ? 1 : 0
  name             = "kube-prometheus-stack"
  repository       = "https://prometheus-community.github.io/helm-charts"
  chart            = "kube-prometheus-stack"
  version          = var.kube_prometheus_stack_version
  namespace        = "monitoring"
  create_namespace = true

  values = [yamlencode({
    grafana = {
      sidecar = {
        dashboards = {
          enabled         = true
          label           = "grafana_dashboard"
          searchNamespace = "ALL"
        }
      }
    }
  })]
}
