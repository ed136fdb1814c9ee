variable "cluster_name" {
  description = "Name of the MSK cluster."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,63}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and hold at most 64 letters, digits and hyphens."
  }
}

variable "kafka_version" {
  description = "Apache Kafka version of the brokers."
  type        = string
  default     = "3.9.x"
}

variable "broker_instance_type" {
  description = "Broker instance type. Herd's traffic is small records (prompts, token chunks); m7g.large suffices for thousands of streams."
  type        = string
  default     = "kafka.m7g.large"
  validation {
    condition     = startswith(var.broker_instance_type, "kafka.")
    error_message = "broker_instance_type must be an MSK instance type (kafka.*)."
  }
}

variable "broker_count" {
  description = "Number of brokers: a multiple of the number of subnets, and at least 3 for replication factor 3 with min.insync.replicas 2 (topics.json)."
  type        = number
  default     = 3
  validation {
    condition     = var.broker_count >= 3
    error_message = "Herd's topics use replication factor 3, which needs at least 3 brokers."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the brokers, one per availability zone (2 or 3)."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 2 && length(var.subnet_ids) <= 3
    error_message = "MSK needs 2 or 3 subnets in distinct availability zones."
  }
}

variable "vpc_id" {
  description = "VPC of the brokers' security group."
  type        = string
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach the SASL/SCRAM listener (port 9096): the EKS cluster security group."
  type        = list(string)
}

variable "ebs_volume_size_gib" {
  description = "Storage per broker in GiB."
  type        = number
  default     = 100
  validation {
    condition     = var.ebs_volume_size_gib >= 10
    error_message = "ebs_volume_size_gib must be at least 10."
  }
}

variable "service_username" {
  description = "SCRAM user that Herd and KEDA connect as (the k8s Secret herd-kafka-credentials holds its password)."
  type        = string
  default     = "herd"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}$", var.service_username))
    error_message = "service_username must be 2-63 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "client_usernames" {
  description = "One SCRAM user per client pipeline that produces requests and reads responses; each also owns reply topics herd.responses.<user> and consumer groups <user>.*."
  type        = list(string)
  default     = ["herd-client"]
  validation {
    condition     = length(var.client_usernames) > 0 && alltrue([for u in var.client_usernames : can(regex("^[a-z][a-z0-9-]{1,62}$", u))])
    error_message = "client_usernames must name at least one user of 2-63 lower-case letters, digits and hyphens."
  }
}

variable "admin_username" {
  description = "SCRAM user of operators and of the ACL stage (modules/msk-acls): creates topics and ACLs; never used by a workload."
  type        = string
  default     = "herd-admin"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}$", var.admin_username))
    error_message = "admin_username must be 2-63 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "deny_without_acl" {
  description = "true: the brokers run with allow.everyone.if.no.acl.found=false, so only ACLs grant access. Set false only for the first apply of a new cluster, until modules/msk-acls has created the ACLs (MSK has no super users; see docs/DEPLOY.md)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every AWS resource of this module."
  type        = map(string)
  default     = {}
}
