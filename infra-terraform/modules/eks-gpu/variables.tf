variable "cluster_name" {
  description = "Name of the EKS cluster; also prefixes the IAM roles and node groups."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,62}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and hold at most 63 letters, digits and hyphens."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and node groups (1.30+ for the preStop sleep action Herd uses)."
  type        = string
  default     = "1.33"
  validation {
    condition     = can(regex("^1\\.(3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be 1.30 or newer, written as \"1.NN\"."
  }
}

variable "endpoint_public_access_cidrs" {
  description = "CIDR blocks that may reach the API server's public endpoint (operators, CI). Empty: no public endpoint at all, only the private one inside the VPC. No default, and never the whole internet (/0), which is what EKS allows when no list is given."
  type        = list(string)
  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "endpoint_public_access_cidrs must be valid CIDR blocks, none of them /0 (the whole internet)."
  }
}

variable "subnet_ids" {
  description = "Private subnets for the control plane ENIs and the nodes; at least two availability zones, and the GPU instance type must be offered in them."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "EKS needs subnets in at least two availability zones."
  }
}

variable "system_instance_types" {
  description = "Instance types of the CPU node group that runs cluster add-ons (KEDA, CoreDNS, monitoring)."
  type        = list(string)
  default     = ["m7i.xlarge"]
}

variable "system_node_count" {
  description = "Number of CPU nodes for cluster add-ons."
  type        = number
  default     = 2
  validation {
    condition     = var.system_node_count >= 1
    error_message = "At least one system node is needed for KEDA and CoreDNS."
  }
}

variable "gpu_instance_types" {
  description = "H100-class instance types of the GPU node group (p5 family: 8 x H100 per p5.48xlarge)."
  type        = list(string)
  default     = ["p5.48xlarge"]
  validation {
    condition     = length(var.gpu_instance_types) > 0 && alltrue([for t in var.gpu_instance_types : can(regex("^p5(e|en)?\\.", t))])
    error_message = "gpu_instance_types must be p5, p5e or p5en instance types (H100/H200 class)."
  }
}

variable "gpu_ami_type" {
  description = "EKS-optimised accelerated AMI of the GPU nodes: AL2023 with NVIDIA drivers, or Bottlerocket NVIDIA (which ships the device plugin itself)."
  type        = string
  default     = "AL2023_x86_64_NVIDIA"
  validation {
    condition     = contains(["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"], var.gpu_ami_type)
    error_message = "gpu_ami_type must be AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA."
  }
}

variable "gpu_capacity_type" {
  description = "Purchase option of the GPU nodes: ON_DEMAND (with an On-Demand Capacity Reservation where p5 is scarce) or SPOT."
  type        = string
  default     = "ON_DEMAND"
  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.gpu_capacity_type)
    error_message = "gpu_capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "gpu_min_nodes" {
  description = "Minimum GPU nodes; 0 lets an idle cluster release every GPU (scale-to-zero overlay plus a cluster autoscaler or Karpenter)."
  type        = number
  default     = 0
  validation {
    condition     = var.gpu_min_nodes >= 0
    error_message = "gpu_min_nodes cannot be negative."
  }
}

variable "gpu_max_nodes" {
  description = "Maximum GPU nodes. Pods per node = GPUs per node (one GPU a pod); keep max nodes x 8 <= partitions of herd.requests."
  type        = number
  default     = 3
  validation {
    condition     = var.gpu_max_nodes >= 1 && var.gpu_max_nodes <= 64
    error_message = "gpu_max_nodes must be between 1 and 64."
  }
}

variable "gpu_desired_nodes" {
  description = "GPU nodes at creation; later changes are left to the autoscaler (ignored by Terraform)."
  type        = number
  default     = 1
  validation {
    condition     = var.gpu_desired_nodes >= 0
    error_message = "gpu_desired_nodes cannot be negative."
  }
}

variable "gpu_disk_size_gib" {
  description = "Root volume of each GPU node in GiB. Model weights are synced into pod emptyDir volumes on it: 8 pods x one checkpoint must fit."
  type        = number
  default     = 2048
  validation {
    condition     = var.gpu_disk_size_gib >= 200
    error_message = "gpu_disk_size_gib must be at least 200 GiB to hold a Llama 4 checkpoint."
  }
}

variable "tags" {
  description = "Tags added to every AWS resource of this module."
  type        = map(string)
  default     = {}
}
