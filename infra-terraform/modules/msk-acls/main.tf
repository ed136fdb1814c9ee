# Kafka ACLs of Herd's principals. The AWS provider has no resource for Kafka ACLs (they live in the brokers, not in
# the AWS API), so they are kafka_acl resources of the Kafka provider, applied with the admin SCRAM user from a host
# that reaches the brokers (examples/aws-kafka-acls). Terraform rather than a kafka-acls.sh script: the plan shows
# every grant before it changes, and a grant removed here is revoked on the brokers; a script can only add.
#
# Topic names come from kafka-topics/topics.json by role, the same file the topics are created from, so a renamed
# topic cannot keep a stale grant. Describe is implied by Read, Write and Alter, DescribeConfigs by AlterConfigs, so
# neither is listed. One grant per line: TerraformTest reads this table.

locals {
  topic = { for t in jsondecode(file(var.topics_file)).topics : t.role => t.name }

  # Herd (and KEDA, which reads the group's lag with the same user): consumes requests and control, writes responses
  # and reply topics (prefix), the DLQ and the attempts ledger, which it also reads back, creates and widens.
  service_grants = [
    { resource_type = "Topic", pattern = "Literal", name = local.topic["requests"], operations = ["Read"] },
    { resource_type = "Topic", pattern = "Literal", name = local.topic["control"], operations = ["Read"] },
    { resource_type = "Topic", pattern = "Prefixed", name = local.topic["responses"], operations = ["Write"] },
    { resource_type = "Topic", pattern = "Literal", name = local.topic["dlq"], operations = ["Write"] },
    { resource_type = "Topic", pattern = "Literal", name = local.topic["attempts"], operations = ["Read", "Write", "Create", "Alter", "AlterConfigs"] },
    { resource_type = "Group", pattern = "Literal", name = var.consumer_group, operations = ["Read"] },
    { resource_type = "Group", pattern = "Prefixed", name = var.control_group_prefix, operations = ["Read"] },
  ]

  # A client pipeline: produces requests and control commands, reads the shared responses topic and its own reply
  # topics (herd.responses.<user> and herd.responses.<user>.*), commits in its own groups (<user>.*). It cannot read
  # requests, the DLQ or the attempts ledger, nor write anything Herd writes.
  client_grants = {
    for user in var.client_usernames : user => [
      { resource_type = "Topic", pattern = "Literal", name = local.topic["requests"], operations = ["Write"] },
      { resource_type = "Topic", pattern = "Literal", name = local.topic["control"], operations = ["Write"] },
      { resource_type = "Topic", pattern = "Literal", name = local.topic["responses"], operations = ["Read"] },
      { resource_type = "Topic", pattern = "Literal", name = "${local.topic["responses"]}.${user}", operations = ["Read"] },
      { resource_type = "Topic", pattern = "Prefixed", name = "${local.topic["responses"]}.${user}.", operations = ["Read"] },
      { resource_type = "Group", pattern = "Prefixed", name = "${user}.", operations = ["Read"] },
    ]
  }

  # Operators: topics (create-topics.sh), ACLs and group administration. Everything on the cluster except
  # ClusterAction, which only brokers use (MSK makes them super users) and a grant could only confuse.
  admin_grants = [
    { resource_type = "Cluster", pattern = "Literal", name = "kafka-cluster", operations = ["Alter", "AlterConfigs", "Create", "Describe", "DescribeConfigs"] },
    { resource_type = "Topic", pattern = "Literal", name = "*", operations = ["All"] },
    { resource_type = "Group", pattern = "Literal", name = "*", operations = ["All"] },
  ]

  grants_by_user = merge(
    { (var.service_username) = local.service_grants },
    { (var.admin_username) = local.admin_grants },
    local.client_grants,
  )

  # One ACL per user, resource and operation, keyed so that a plan names exactly what it adds or revokes.
  acls = {
    for acl in flatten([
      for user, grants in local.grants_by_user : [
        for grant in grants : [
          for operation in grant.operations : merge(grant, { user = user, operation = operation })
        ]
      ]
    ]) : "${acl.user}|${acl.resource_type}|${acl.pattern}|${acl.name}|${acl.operation}" => acl
  }
}

resource "kafka_acl" "this" {
  for_each                     = local.acls
  resource_name                = each.value.name
  resource_type                = each.value.resource_type
  resource_pattern_type_filter = each.value.pattern
  acl_principal                = "User:${each.value.user}"
  acl_host                     = "*"
  acl_operation                = each.value.operation
  acl_permission_type          = "Allow"

  lifecycle {
    precondition {
      condition     = length(distinct(concat([var.admin_username, var.service_username], var.client_usernames))) == length(var.client_usernames) + 2
      error_message = "admin_username, service_username and client_usernames must be distinct: one principal, one role."
    }
  }
}
