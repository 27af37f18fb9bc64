"""callcenter: a call-center engine that drives FreeSWITCH over the Event Socket."""

__version__ = "0.1.0"
