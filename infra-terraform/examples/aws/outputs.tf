output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks_gpu.cluster_name
}

output "kubeconfig_command" {
  description = "Command that points kubectl at the new cluster."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${module.eks_gpu.cluster_name}"
}

output "kafka_bootstrap_servers" {
  description = "KAFKA_BOOTSTRAP_SERVERS for Herd and for create-topics.sh (SASL/SCRAM over TLS, port 9096)."
  value       = module.msk.bootstrap_brokers_sasl_scram
}

output "kafka_scram_secret_arn" {
  description = "Secrets Manager secret with the SCRAM username and password."
  value       = module.msk.scram_secret_arn
}

output "model_bucket_uri" {
  description = "s3:// URI of the weights bucket; upload checkpoints below it."
  value       = module.model_storage.bucket_uri
}
