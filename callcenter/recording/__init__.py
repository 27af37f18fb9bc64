"""Call recording: policies, file paths, the file check after each stop, retention."""
