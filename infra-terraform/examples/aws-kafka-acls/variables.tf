variable "region" {
  description = "AWS region of the MSK cluster and its SCRAM secrets."
  type        = string
  default     = "us-east-1"
}

variable "kafka_bootstrap_servers" {
  description = "SASL/SCRAM bootstrap servers, comma-separated (examples/aws output kafka_bootstrap_servers)."
  type        = string
  validation {
    condition     = alltrue([for s in split(",", var.kafka_bootstrap_servers) : can(regex(":9096$", trimspace(s)))])
    error_message = "Use MSK's SASL/SCRAM listener (port 9096): terraform output -raw kafka_bootstrap_servers in examples/aws."
  }
}

variable "kafka_admin_secret_arn" {
  description = "Secrets Manager secret of the admin SCRAM user (examples/aws output kafka_admin_secret_arn)."
  type        = string
}

variable "service_username" {
  description = "SCRAM user of the service (examples/aws output kafka_service_username)."
  type        = string
  default     = "herd"
}

variable "client_usernames" {
  description = "SCRAM users of the client pipelines (examples/aws output kafka_client_usernames)."
  type        = list(string)
  default     = ["herd-client"]
}
