# Private, encrypted bucket for checkpoints, readable (only) by Herd's service account through EKS Pod Identity.

resource "aws_s3_bucket" "weights" {
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "weights" {
  bucket                  = aws_s3_bucket.weights.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "weights" {
  bucket = aws_s3_bucket.weights.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

# A checkpoint overwritten by mistake can be restored.
resource "aws_s3_bucket_versioning" "weights" {
  bucket = aws_s3_bucket.weights.id
  versioning_configuration {
    status = "Enabled"
  }
}

data "aws_iam_policy_document" "pod_identity_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "read_weights" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.weights.arn]
  }
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.weights.arn}/*"]
  }
}

resource "aws_iam_role" "reader" {
  name               = "${var.cluster_name}-herd-weights-reader"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "read_weights" {
  name   = "read-weights"
  role   = aws_iam_role.reader.id
  policy = data.aws_iam_policy_document.read_weights.json
}

resource "aws_eks_pod_identity_association" "herd" {
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account
  role_arn        = aws_iam_role.reader.arn
  tags            = var.tags
}
