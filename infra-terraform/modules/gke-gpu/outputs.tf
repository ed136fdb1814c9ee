output "cluster_name" {
  description = "Name of the GKE cluster (gcloud container clusters get-credentials ...)."
  value       = google_container_cluster.this.name
}

output "cluster_endpoint" {
  description = "API server endpoint."
  value       = google_container_cluster.this.endpoint
}

output "cluster_ca_certificate" {
  description = "Base64 CA certificate of the API server."
  value       = google_container_cluster.this.master_auth[0].cluster_ca_certificate
}

output "gpu_node_pool_name" {
  description = "Name of the GPU node pool."
  value       = google_container_node_pool.gpu.name
}
