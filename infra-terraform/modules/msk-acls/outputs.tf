output "acls" {
  description = "Every ACL created, as user|resource type|pattern|resource name|operation."
  value       = sort(keys(kafka_acl.this))
}
