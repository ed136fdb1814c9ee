output "cluster_name" {
  description = "Name of the EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "API server endpoint."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA bundle of the API server."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group EKS attaches to the control plane and managed nodes; Kafka must admit it."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "gpu_node_group_name" {
  description = "Name of the GPU managed node group."
  value       = aws_eks_node_group.gpu.node_group_name
}

output "gpu_node_label" {
  description = "Label that marks GPU nodes (key = value), as the k8s nodeSelector uses it."
  value       = aws_eks_node_group.gpu.labels
}
