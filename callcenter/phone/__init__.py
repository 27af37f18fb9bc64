"""Agents on their phones: feature codes (``*21`` log in...), calls agents dial, offer options."""
