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

resource "aws_msk_configuration" "this" {
  name           = "${var.cluster_name}-config"
  kafka_versions = [var.kafka_version]
  # Topics come from kafka-topics/create-topics.sh, never from a client's first use.
  server_properties = join("\n", [
    "auto.create.topics.enable=false",
    "default.replication.factor=3",
    "min.insync.replicas=2",
    "message.max.bytes=4194304",
  ])
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
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
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

resource "random_password" "scram" {
  length  = 32
  special = false
}

resource "aws_secretsmanager_secret" "scram" {
  name       = "AmazonMSK_${var.cluster_name}_${var.scram_username}"
  kms_key_id = aws_kms_key.scram.key_id
  tags       = var.tags
}

resource "aws_secretsmanager_secret_version" "scram" {
  secret_id = aws_secretsmanager_secret.scram.id
  secret_string = jsonencode({
    username = var.scram_username
    password = random_password.scram.result
  })
}

resource "aws_msk_scram_secret_association" "this" {
  cluster_arn     = aws_msk_cluster.this.arn
  secret_arn_list = [aws_secretsmanager_secret.scram.arn]
  depends_on      = [aws_secretsmanager_secret_version.scram]
}
