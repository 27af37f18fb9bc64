"""Every operator operation, one function each: ``(db, who, ...)``.

Each checks its arguments and preconditions (domain errors with stable codes), does its
work in one transaction with an audit entry naming who did it, and writes the change row
every running engine applies (``changes``). The CLI and the HTTP API are thin faces over
these functions.
"""
