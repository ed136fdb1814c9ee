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
