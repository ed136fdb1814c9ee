variable "project_id" {
  description = "Google Cloud project of the cluster."
  type        = string
}

variable "region" {
  description = "Region of the (regional) cluster, e.g. us-central1."
  type        = string
}

variable "cluster_name" {
  description = "Name of the GKE cluster; at most 24 characters, since it also names the nodes' service account."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name must be 2-24 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "network" {
  description = "VPC network of the cluster."
  type        = string
  default     = "default"
}

variable "subnetwork" {
  description = "Subnetwork of the nodes."
  type        = string
  default     = "default"
}

variable "gpu_node_locations" {
  description = "Zones of the GPU pool; H100 machines are offered only in some zones of a region."
  type        = list(string)
  validation {
    condition     = length(var.gpu_node_locations) >= 1
    error_message = "Name at least one zone that offers the GPU machine type."
  }
}

variable "gpu_machine_type" {
  description = "A3 machine type with H100 GPUs (a3-highgpu-1g/2g/4g/8g, a3-megagpu-8g)."
  type        = string
  default     = "a3-highgpu-8g"
  validation {
    condition     = can(regex("^a3-(high|mega|edge)gpu-[1248]g$", var.gpu_machine_type))
    error_message = "gpu_machine_type must be an A3 (H100) machine type."
  }
}

variable "gpu_accelerator_type" {
  description = "Accelerator type attached to each GPU node."
  type        = string
  default     = "nvidia-h100-80gb"
  validation {
    condition     = contains(["nvidia-h100-80gb", "nvidia-h100-mega-80gb"], var.gpu_accelerator_type)
    error_message = "gpu_accelerator_type must be nvidia-h100-80gb or nvidia-h100-mega-80gb."
  }
}

variable "gpu_accelerator_count" {
  description = "GPUs per node; must match the machine type (8 for a3-highgpu-8g)."
  type        = number
  default     = 8
  validation {
    condition     = contains([1, 2, 4, 8], var.gpu_accelerator_count)
    error_message = "gpu_accelerator_count must be 1, 2, 4 or 8."
  }
}

variable "gpu_min_nodes" {
  description = "Minimum GPU nodes per zone (0 releases every GPU when idle)."
  type        = number
  default     = 0
}

variable "gpu_max_nodes" {
  description = "Maximum GPU nodes per zone; keep total GPUs <= partitions of herd.requests."
  type        = number
  default     = 3
  validation {
    condition     = var.gpu_max_nodes >= 1
    error_message = "gpu_max_nodes must be at least 1."
  }
}

variable "gpu_disk_size_gb" {
  description = "Boot disk of each GPU node in GB; pod emptyDir volumes holding synced weights live on it."
  type        = number
  default     = 2048
}

variable "system_machine_type" {
  description = "Machine type of the CPU pool for add-ons."
  type        = string
  default     = "e2-standard-4"
}

variable "system_node_count" {
  description = "CPU nodes per zone for add-ons."
  type        = number
  default     = 1
}

variable "deletion_protection" {
  description = "Refuse terraform destroy of the cluster."
  type        = bool
  default     = true
}
