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

output "kafka_service_secret_arn" {
  description = "Secrets Manager secret with the service's SCRAM username and password (Herd and KEDA)."
  value       = module.msk.scram_secret_arns[module.msk.service_username]
}

output "kafka_admin_secret_arn" {
  description = "Secrets Manager secret of the admin SCRAM user (topics, ACLs); input of examples/aws-kafka-acls."
  value       = module.msk.scram_secret_arns[module.msk.admin_username]
}

output "kafka_client_secret_arns" {
  description = "Secrets Manager secret of each client pipeline's SCRAM user, by user name."
  value       = { for user in module.msk.client_usernames : user => module.msk.scram_secret_arns[user] }
}

output "kafka_service_username" {
  description = "SCRAM user of the service; input of examples/aws-kafka-acls."
  value       = module.msk.service_username
}

output "kafka_client_usernames" {
  description = "SCRAM users of the client pipelines; input of examples/aws-kafka-acls."
  value       = module.msk.client_usernames
}

output "model_bucket_uri" {
  description = "s3:// URI of the weights bucket; upload checkpoints below it."
  value       = module.model_storage.bucket_uri
}
