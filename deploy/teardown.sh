#!/usr/bin/env bash
# make teardown: deletes the main stack (sam delete asks first), then names what it leaves behind and how
# to delete that too (docs/deploy.md, "Teardown").
set -euo pipefail
: "${STACK:?set STACK}" "${REGION:?set REGION}" "${SAM:=sam}"

physical_id() {
  aws cloudformation describe-stack-resource --region "$REGION" --stack-name "$STACK" --logical-resource-id "$1" \
    --query StackResourceDetail.PhysicalResourceId --output text 2>/dev/null || true
}
table=$(physical_id Table)
efs=$(physical_id SessionStore)
cluster=$(physical_id Cluster)
files=$(physical_id FilesBucket)

# The files bucket holds only passing files (uploads, rejected-row reports, exports: docs/files.md), and a
# bucket with objects would stop the stack's deletion: it is emptied first.
if [[ -n "$files" && "$files" != "None" ]]; then
  aws s3 rm "s3://$files" --recursive --quiet --region "$REGION" || true
fi
"$SAM" delete --stack-name "$STACK" --region "$REGION" --s3-prefix "$STACK"
if aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" >/dev/null 2>&1; then
  echo "teardown: stack $STACK is still there (not confirmed, or its deletion failed)" >&2
  exit 1
fi

echo "Deleted stack $STACK. Left behind:"
if [[ -n "$table" ]] && aws dynamodb describe-table --region "$REGION" --table-name "$table" >/dev/null 2>&1; then
  echo "  DynamoDB table $table (all accounts, contacts, campaigns):"
  echo "    aws dynamodb delete-table --region $REGION --table-name $table"
fi
if [[ -n "$efs" ]] && aws efs describe-file-systems --region "$REGION" --file-system-id "$efs" >/dev/null 2>&1; then
  echo "  EFS file system $efs (the linked WhatsApp sessions):"
  echo "    aws efs delete-file-system --region $REGION --file-system-id $efs"
fi
if [[ -n "$cluster" ]]; then
  echo "  ECS Container Insights' log group (1-day retention):"
  echo "    aws logs delete-log-group --region $REGION --log-group-name /aws/ecs/containerinsights/$cluster/performance"
fi
echo "  the images stack: aws cloudformation delete-stack --region $REGION --stack-name $STACK-images"
echo "  SAM's artifacts bucket (stack aws-sam-cli-managed-default, shared by every SAM app of the region)"
echo "See docs/deploy.md, \"Teardown\", for these and the backups."
