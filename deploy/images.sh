#!/usr/bin/env bash
# make images: the ECR repositories (stack "$STACK-images", deploy/ecr.yaml), then the session host's two
# images built for linux/arm64 (Fargate runs arm64), tagged with the commit, pushed. Prints both URIs.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STACK:?set STACK (the main stack name)}" "${REGION:?set REGION}"

if [[ -n "$(git status --porcelain)" ]]; then
  echo "images: uncommitted changes: commit first, an image is tagged with its commit" >&2
  exit 1
fi
tag=$(git rev-parse --short=12 HEAD)

aws cloudformation deploy --region "$REGION" --stack-name "$STACK-images" --template-file deploy/ecr.yaml \
  --parameter-overrides "AppStack=$STACK" --no-fail-on-empty-changeset

output() {
  aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK-images" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
host_repo=$(output SessionHostRepositoryUri)
webjs_repo=$(output WebjsRepositoryUri)

aws ecr get-login-password --region "$REGION" \
  | docker login --username AWS --password-stdin "${host_repo%%/*}"

# push REPOSITORY_URI DOCKERFILE CONTEXT. Tags are immutable: an image already pushed for this commit is kept.
# --provenance=false: a plain arm64 image, not an index with an attestation manifest beside it.
push() {
  if aws ecr describe-images --region "$REGION" --repository-name "${1#*/}" --image-ids "imageTag=$tag" \
    >/dev/null 2>&1; then
    echo "images: $1:$tag is already in ECR"
  else
    docker buildx build --platform linux/arm64 --provenance=false --push --file "$2" --tag "$1:$tag" "$3"
  fi
}
push "$host_repo" session_host/Dockerfile .
push "$webjs_repo" session_host/webjs/Dockerfile session_host/webjs

echo "SessionHostImage=$host_repo:$tag"
echo "WebjsImage=$webjs_repo:$tag"
