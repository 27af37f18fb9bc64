"""Every operator operation: preconditions, one transaction, an audit entry."""
