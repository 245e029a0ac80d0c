"""Deploying wacast to AWS: build checks, images, stacks and the first owner (see docs/deploy.md)."""
