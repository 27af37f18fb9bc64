"""The ACD: queues, agents, skills and tiers, strategies, and the single-writer dispatcher."""
