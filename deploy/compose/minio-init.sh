#!/bin/sh
# compose.yaml's one-shot minio-init: the bucket guardian uses, and a MinIO user that may only use that bucket
# (guardian never gets the root credentials). Idempotent: safe on every `docker compose up`.
set -eu
secret() { head -n 1 "/run/secrets/$1"; }
bucket=guardian
mc alias set local http://minio:9000 "$(secret minio_root_user)" "$(secret minio_root_password)" >/dev/null
mc mb --ignore-existing "local/$bucket"
cat >/tmp/guardian-policy.json <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::$bucket"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                 "s3:ListMultipartUploadParts"],
      "Resource": ["arn:aws:s3:::$bucket/*"]
    }
  ]
}
POLICY
mc admin policy create local guardian-bucket /tmp/guardian-policy.json
mc admin user add local "$(secret s3_access_key_id)" "$(secret s3_secret_access_key)"
# Attaching a policy that is already attached is an error to mc: that state is the one wanted.
mc admin policy attach local guardian-bucket --user "$(secret s3_access_key_id)" 2>/dev/null || true
echo "minio-init: bucket $bucket and its user are ready"
