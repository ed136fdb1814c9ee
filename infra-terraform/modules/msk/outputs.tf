output "bootstrap_brokers_sasl_scram" {
  description = "Bootstrap servers of the SASL/SCRAM listener (host:9096,...): KAFKA_BOOTSTRAP_SERVERS for Herd."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_scram
}

output "cluster_arn" {
  description = "ARN of the MSK cluster."
  value       = aws_msk_cluster.this.arn
}

output "scram_secret_arn" {
  description = "Secrets Manager secret holding the SCRAM username and password (JSON)."
  value       = aws_secretsmanager_secret.scram.arn
}

output "scram_username" {
  description = "SCRAM user name."
  value       = var.scram_username
}

output "security_group_id" {
  description = "Security group of the brokers."
  value       = aws_security_group.msk.id
}
