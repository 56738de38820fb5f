"""lorasuite apps: thin programs on the shared core (support, sentiment, recommender) + launcher."""
