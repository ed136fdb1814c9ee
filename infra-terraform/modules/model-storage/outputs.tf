output "bucket_name" {
  description = "Name of the weights bucket."
  value       = aws_s3_bucket.weights.bucket
}

output "bucket_uri" {
  description = "s3:// URI of the bucket; HERD_MODEL_S3_URI is this plus the checkpoint's folder."
  value       = "s3://${aws_s3_bucket.weights.bucket}/"
}

output "reader_role_arn" {
  description = "IAM role Herd's pods assume to read the weights."
  value       = aws_iam_role.reader.arn
}
