"""Call detail records: built from each call's events, written once, spooled when the DB is down."""
