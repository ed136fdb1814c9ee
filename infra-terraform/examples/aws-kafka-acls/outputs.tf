output "acls" {
  description = "Every ACL in force, as user|resource type|pattern|resource name|operation."
  value       = module.msk_acls.acls
}
