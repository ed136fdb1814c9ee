# Second stage of examples/aws: the Kafka ACLs of the MSK cluster it made, one set per SCRAM principal. Inputs are
# that stage's outputs. After this apply, re-apply examples/aws with kafka_deny_without_acl = true (its default) so
# that the brokers deny every principal without an ACL.

data "aws_secretsmanager_secret_version" "admin" {
  secret_id = var.kafka_admin_secret_arn
}

locals {
  admin = jsondecode(data.aws_secretsmanager_secret_version.admin.secret_string)
}

module "msk_acls" {
  source = "../../modules/msk-acls"

  topics_file      = "${path.module}/../../../kafka-topics/topics.json"
  service_username = var.service_username
  client_usernames = var.client_usernames
  admin_username   = local.admin.username
}
