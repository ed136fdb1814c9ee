output "bootstrap_brokers_sasl_scram" {
  description = "Bootstrap servers of the SASL/SCRAM listener (host:9096,...): KAFKA_BOOTSTRAP_SERVERS for Herd."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_scram
}

output "cluster_arn" {
  description = "ARN of the MSK cluster."
  value       = aws_msk_cluster.this.arn
}

output "scram_secret_arns" {
  description = "Secrets Manager secret (JSON username and password) of each SCRAM user, by user name."
  value       = { for user, secret in aws_secretsmanager_secret.scram : user => secret.arn }
}

output "service_username" {
  description = "SCRAM user of the service and of KEDA."
  value       = var.service_username
}

output "client_usernames" {
  description = "SCRAM users of the client pipelines."
  value       = var.client_usernames
}

output "admin_username" {
  description = "SCRAM user that creates topics and ACLs."
  value       = var.admin_username
}

output "security_group_id" {
  description = "Security group of the brokers."
  value       = aws_security_group.msk.id
}
