"""The analytics-sync service: tracked posts and accounts, their metrics over time, the
platforms' rate budgets spent on keeping them fresh."""
