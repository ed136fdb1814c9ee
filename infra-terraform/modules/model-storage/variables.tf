variable "bucket_name" {
  description = "Globally unique name of the S3 bucket that holds model checkpoints (safetensors, config.json, tokenizer files)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lower-case letters, digits, dots or hyphens, starting and ending with a letter or digit."
  }
}

variable "cluster_name" {
  description = "EKS cluster whose pods read the weights (EKS Pod Identity association)."
  type        = string
}

variable "namespace" {
  description = "Namespace of Herd's pods (k8s/base/kustomization.yaml)."
  type        = string
  default     = "herd"
}

variable "service_account" {
  description = "Service account of Herd's pods (k8s/base/serviceaccount.yaml)."
  type        = string
  default     = "herd"
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a bucket that still holds checkpoints."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every AWS resource of this module."
  type        = map(string)
  default     = {}
}
