# Amazon MSK with SASL/SCRAM over TLS: the standard Kafka client in Herd and KEDA's Kafka scaler both speak it, with
# no extra client library (IAM auth would need one in the service).

resource "aws_security_group" "msk" {
  name        = "${var.cluster_name}-msk"
  description = "MSK brokers of ${var.cluster_name}"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "scram" {
  count                        = length(var.client_security_group_ids)
  security_group_id            = aws_security_group.msk.id
  referenced_security_group_id = var.client_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 9096
  to_port                      = 9096
  description                  = "Kafka SASL/SCRAM over TLS"
}

locals {
  # Every SCRAM principal of the cluster: the operators' admin (topics and ACLs), the service (Herd and KEDA's lag
  # reads) and one per client pipeline. modules/msk-acls grants each exactly what its role needs.
  scram_users = toset(concat([var.admin_username, var.service_username], var.client_usernames))

  # Topics come from kafka-topics/create-topics.sh, never from a client's first use.
  base_server_properties = [
    "auto.create.topics.enable=false",
    "default.replication.factor=3",
    "min.insync.replicas=2",
    "message.max.bytes=4194304",
  ]
}

# Deny by default: a principal reaches a topic or group only through an ACL (modules/msk-acls). MSK has no
# super.users, so ACLs can only be created while no ACL denies it: a new cluster starts on "bootstrap" (MSK's default,
# allow.everyone.if.no.acl.found=true, while only our SCRAM users exist and no topic does), the ACLs are applied, and
# the cluster then moves to "enforced" (deny_without_acl = true). docs/DEPLOY.md gives the order.
resource "aws_msk_configuration" "enforced" {
  name              = "${var.cluster_name}-acls-enforced"
  kafka_versions    = [var.kafka_version]
  server_properties = join("\n", concat(local.base_server_properties, ["allow.everyone.if.no.acl.found=false"]))
}

resource "aws_msk_configuration" "bootstrap" {
  name              = "${var.cluster_name}-acls-bootstrap"
  kafka_versions    = [var.kafka_version]
  server_properties = join("\n", concat(local.base_server_properties, ["allow.everyone.if.no.acl.found=true"]))
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.cluster_name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.msk.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.ebs_volume_size_gib
      }
    }
  }

  client_authentication {
    sasl {
      scram = true
    }
  }

  encryption_info {
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = var.deny_without_acl ? aws_msk_configuration.enforced.arn : aws_msk_configuration.bootstrap.arn
    revision = var.deny_without_acl ? aws_msk_configuration.enforced.latest_revision : aws_msk_configuration.bootstrap.latest_revision
  }

  tags = var.tags
}

# MSK reads SCRAM users from Secrets Manager secrets named AmazonMSK_*, encrypted with a customer managed key.
resource "aws_kms_key" "scram" {
  description             = "SCRAM secrets of MSK cluster ${var.cluster_name}"
  deletion_window_in_days = 7
  enable_key_rotation     = true
  tags                    = var.tags
}

# One SCRAM user per principal, so ACLs can tell the service from each client and a leaked client password cannot
# write responses or the attempts ledger.
resource "random_password" "scram" {
  for_each = local.scram_users
  length   = 32
  special  = false
}

resource "aws_secretsmanager_secret" "scram" {
  for_each   = local.scram_users
  name       = "AmazonMSK_${var.cluster_name}_${each.key}"
  kms_key_id = aws_kms_key.scram.key_id
  tags       = var.tags
}

resource "aws_secretsmanager_secret_version" "scram" {
  for_each  = local.scram_users
  secret_id = aws_secretsmanager_secret.scram[each.key].id
  secret_string = jsonencode({
    username = each.key
    password = random_password.scram[each.key].result
  })
}

resource "aws_msk_scram_secret_association" "this" {
  cluster_arn     = aws_msk_cluster.this.arn
  secret_arn_list = [for user in sort(tolist(local.scram_users)) : aws_secretsmanager_secret.scram[user].arn]
  depends_on      = [aws_secretsmanager_secret_version.scram]

  lifecycle {
    precondition {
      condition     = length(local.scram_users) == length(var.client_usernames) + 2
      error_message = "admin_username, service_username and client_usernames must be distinct: one principal, one role."
    }
  }
}

# State written before the cluster had one SCRAM user per principal: the single user "herd" is now the service user.
moved {
  from = random_password.scram
  to   = random_password.scram["herd"]
}

moved {
  from = aws_secretsmanager_secret.scram
  to   = aws_secretsmanager_secret.scram["herd"]
}

moved {
  from = aws_secretsmanager_secret_version.scram
  to   = aws_secretsmanager_secret_version.scram["herd"]
}
