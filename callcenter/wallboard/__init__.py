"""Live views of the floor: the snapshot both wallboards show (``callcenter top`` and the
browser page at ``/wallboard``), the event tally behind its rates, and their faces."""
