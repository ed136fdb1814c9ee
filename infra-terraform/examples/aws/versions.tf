terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.6"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      "app.kubernetes.io/part-of" = "herd"
    }
  }
}

# Talks to the new cluster with a short-lived token from the AWS CLI.
provider "helm" {
  kubernetes = {
    host                   = module.eks_gpu.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks_gpu.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.eks_gpu.cluster_name, "--region", var.region]
    }
  }
}
