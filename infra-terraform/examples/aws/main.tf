# A whole Herd environment on AWS: VPC, EKS with an H100 node group, KEDA and the device plugin, MSK, and a weights
# bucket. Then follow docs/DEPLOY.md.

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 6.0"

  name            = var.name
  cidr            = "10.40.0.0/16"
  azs             = var.availability_zones
  private_subnets = ["10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19"]
  public_subnets  = ["10.40.96.0/22", "10.40.100.0/22", "10.40.104.0/22"]

  enable_nat_gateway = true
  single_nat_gateway = true

  # Tags the AWS load balancer controller looks for (not needed by Herd itself, which takes no HTTP traffic).
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
  }
}

module "eks_gpu" {
  source = "../../modules/eks-gpu"

  cluster_name                 = var.name
  subnet_ids                   = module.vpc.private_subnets
  gpu_max_nodes                = var.gpu_max_nodes
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
}

module "addons" {
  source = "../../modules/addons"

  # AL2023 NVIDIA nodes have drivers but no device plugin; Bottlerocket NVIDIA would set this to false.
  install_nvidia_device_plugin = true

  depends_on = [module.eks_gpu]
}

module "msk" {
  source = "../../modules/msk"

  cluster_name              = var.name
  vpc_id                    = module.vpc.vpc_id
  subnet_ids                = module.vpc.private_subnets
  client_security_group_ids = concat([module.eks_gpu.cluster_security_group_id], var.kafka_admin_security_group_ids)
  client_usernames          = var.kafka_client_usernames
  deny_without_acl          = var.kafka_deny_without_acl
}

module "model_storage" {
  source = "../../modules/model-storage"

  bucket_name  = var.model_bucket_name
  cluster_name = module.eks_gpu.cluster_name
}
