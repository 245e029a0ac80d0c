#!/usr/bin/env bash
# make deploy: sam deploy of .aws-sam/build (make build runs first) with the images of the current commit
# (make images), or of the commit IMAGE_TAG names. Guided the first time, when the stack does not exist yet.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STACK:?set STACK}" "${REGION:?set REGION}" "${SAM:=sam}" "${CONFIG_ENV:=default}"
tag=${IMAGE_TAG:-$(git rev-parse --short=12 HEAD)}

output() {
  aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK-images" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
host_repo=$(output SessionHostRepositoryUri) || { echo "deploy: no stack $STACK-images: run make images first" >&2; exit 1; }
webjs_repo=$(output WebjsRepositoryUri)
for repo in "$host_repo" "$webjs_repo"; do
  if ! aws ecr describe-images --region "$REGION" --repository-name "${repo#*/}" --image-ids "imageTag=$tag" \
    >/dev/null 2>&1; then
    echo "deploy: $repo:$tag is not in ECR: run make images first" >&2
    exit 1
  fi
done
if [[ -n "$(git status --porcelain)" ]]; then
  echo "deploy: uncommitted changes: the functions come from the work tree, the images from commit $tag" >&2
fi

# PARAMS: more Key=Value overrides, space-separated. Parameters not given keep the stack's current values.
read -r -a params <<<"${PARAMS:-}"
args=(--config-env "$CONFIG_ENV" --stack-name "$STACK" --region "$REGION" --s3-prefix "$STACK"
  --no-fail-on-empty-changeset
  --parameter-overrides "SessionHostImage=$host_repo:$tag" "WebjsImage=$webjs_repo:$tag" ${params[@]+"${params[@]}"})

if status=$(aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
  --query "Stacks[0].StackStatus" --output text 2>&1); then
  if [[ "$status" == ROLLBACK_COMPLETE ]]; then
    echo "deploy: $STACK failed its first creation (ROLLBACK_COMPLETE): make teardown, then make deploy" >&2
    exit 1
  fi
  "$SAM" deploy "${args[@]}" "$@"
elif [[ "$status" == *"does not exist"* ]]; then
  echo "deploy: no stack $STACK in $REGION yet: guided deploy (docs/deploy.md explains each prompt)"
  "$SAM" deploy --guided "${args[@]}" "$@"
else
  echo "deploy: cannot read stack $STACK: $status" >&2
  exit 1
fi

# The web console (docs/console.md): web/dist (`make deploy` builds it) into the console bucket, then an
# invalidation so CloudFront serves the new index.html at once. The files under assets/ are named by their
# content, so they are cached for a year and the old ones are kept for pages still open; everything else is
# revalidated on each load. Source maps stay here.
console_output() {
  aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
if [[ ! -f web/dist/index.html ]]; then
  echo "deploy: web/dist is not built: make web-build (make deploy does it)" >&2
  exit 1
fi
bucket=$(console_output ConsoleBucketName)
distribution=$(console_output ConsoleDistributionId)
aws s3 sync web/dist/assets "s3://$bucket/assets" --region "$REGION" --exclude "*.map" \
  --cache-control "public, max-age=31536000, immutable"
aws s3 sync web/dist "s3://$bucket" --region "$REGION" --delete --exclude "assets/*" --exclude "*.map" \
  --cache-control "no-cache"
aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/*" --query Invalidation.Id --output text
echo "deploy: the console is at $(console_output ConsoleUrl)"
