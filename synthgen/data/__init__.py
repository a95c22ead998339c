"""Schema inference and train/holdout splitting."""
