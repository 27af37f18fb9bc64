"""YAML IVR flows: loading, validation and the validated plan."""
