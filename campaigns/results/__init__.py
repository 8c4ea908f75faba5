"""What campaigns achieved: holdout lift (pure) and the campaign page frames the dashboards read."""
