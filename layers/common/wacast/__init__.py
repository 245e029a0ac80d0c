"""wacast: the shared package of every deployable (Lambda functions and the session host)."""
