"""willitrun-bot: sizing engine, knowledge answers and the Discord adapter."""
