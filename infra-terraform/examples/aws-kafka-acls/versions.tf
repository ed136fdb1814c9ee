terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0"
    }
    kafka = {
      source  = "Mongey/kafka"
      version = ">= 0.8"
    }
  }
}

provider "aws" {
  region = var.region
}

# The admin SCRAM user over TLS, to MSK's private SASL/SCRAM listener: run this stage from a host inside the VPC
# (a CI runner there, a bastion, or a pod in the EKS cluster). docs/DEPLOY.md, section 4.
provider "kafka" {
  bootstrap_servers = split(",", var.kafka_bootstrap_servers)
  tls_enabled       = true
  sasl_mechanism    = "scram-sha512"
  sasl_username     = local.admin.username
  sasl_password     = local.admin.password
}
