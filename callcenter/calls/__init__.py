"""Live calls: the model, per-call actors, routing of events to calls, and CallControl."""
