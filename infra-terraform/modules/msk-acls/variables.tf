variable "topics_file" {
  description = "Path of kafka-topics/topics.json; topic names are taken from it by role."
  type        = string
  validation {
    condition     = can(jsondecode(file(var.topics_file)).topics)
    error_message = "topics_file must be a readable topics.json with a \"topics\" array."
  }
}

variable "service_username" {
  description = "SCRAM user of the service and of KEDA (modules/msk output service_username)."
  type        = string
  default     = "herd"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}$", var.service_username))
    error_message = "service_username must be 2-63 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "client_usernames" {
  description = "SCRAM users of the client pipelines (modules/msk output client_usernames)."
  type        = list(string)
  default     = ["herd-client"]
  validation {
    condition     = alltrue([for u in var.client_usernames : can(regex("^[a-z][a-z0-9-]{1,62}$", u))])
    error_message = "Each client user name must be 2-63 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "admin_username" {
  description = "SCRAM user of operators, which this stage also connects as (modules/msk output admin_username)."
  type        = string
  default     = "herd-admin"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}$", var.admin_username))
    error_message = "admin_username must be 2-63 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "consumer_group" {
  description = "Consumer group of the request channel (HERD_KAFKA_GROUP_ID in k8s/base/configmap.yaml)."
  type        = string
  default     = "herd"
  validation {
    condition     = length(var.consumer_group) > 0
    error_message = "consumer_group must not be empty."
  }
}

variable "control_group_prefix" {
  description = "Prefix of the per-pod groups of the control channel (herd-control-<uuid> in application.properties)."
  type        = string
  default     = "herd-control-"
  validation {
    condition     = length(var.control_group_prefix) > 1
    error_message = "control_group_prefix must not be empty."
  }
}
