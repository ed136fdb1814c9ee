variable "region" {
  description = "AWS region; it must offer the GPU instance type (p5.48xlarge) in at least two of the chosen availability zones."
  type        = string
  default     = "us-east-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-\\d$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "name" {
  description = "Name of the deployment: the EKS cluster, the MSK cluster and the VPC are named after it."
  type        = string
  default     = "herd"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "availability_zones" {
  description = "Availability zones of the subnets (three, for MSK's three brokers); pick ones that offer p5 capacity."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]
  validation {
    condition     = length(var.availability_zones) == 3
    error_message = "Name exactly three availability zones."
  }
}

variable "model_bucket_name" {
  description = "Globally unique S3 bucket name for model checkpoints."
  type        = string
}

variable "gpu_max_nodes" {
  description = "Maximum p5.48xlarge nodes (8 pods each); 3 nodes = 24 pods = partitions of herd.requests."
  type        = number
  default     = 3
  validation {
    condition     = var.gpu_max_nodes * 8 <= 24
    error_message = "More than 3 nodes would run more pods than herd.requests has partitions (24); raise the partitions in kafka-topics/topics.json first."
  }
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDR blocks allowed to reach the EKS API server's public endpoint: the operators' and CI's egress addresses (this apply's helm provider uses it too). No default: the API server is never open to the whole internet by accident."
  type        = list(string)
}

variable "kafka_client_usernames" {
  description = "One MSK SCRAM user per client pipeline (requests in, responses out); each gets its own ACLs and Secrets Manager secret."
  type        = list(string)
  default     = ["herd-client"]
}

variable "kafka_deny_without_acl" {
  description = "Brokers deny any principal without an ACL (allow.everyone.if.no.acl.found=false). Pass false on the very first apply only, then apply examples/aws-kafka-acls and apply this again with the default (docs/DEPLOY.md)."
  type        = bool
  default     = true
}

variable "kafka_admin_security_group_ids" {
  description = "Security groups, besides the EKS cluster's, allowed to reach MSK's SASL/SCRAM listener: the bastion host or CI runner in this VPC that applies examples/aws-kafka-acls."
  type        = list(string)
  default     = []
}
