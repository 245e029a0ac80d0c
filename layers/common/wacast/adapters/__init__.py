"""Adapters: the only code that talks to AWS (DynamoDB, SQS, Scheduler, CloudWatch, Secrets Manager)."""
