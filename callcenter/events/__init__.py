"""Events out: typed engine events, the in-process bus, the durable outbox, webhooks, SSE."""
