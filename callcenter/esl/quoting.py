"""The value grammar as the ESL builders know it; it lives in ``callcenter.grammar``."""

from callcenter.grammar import (
    VAR_NAME,
    app_name,
    cause,
    dial_string,
    event_keyword,
    header_name,
    line_safe,
    originate_value,
    originate_variables,
    regex_token,
    rest_of_line,
    scrub,
    token,
    uuid,
    var_name,
)

__all__ = [
    "VAR_NAME",
    "app_name",
    "cause",
    "dial_string",
    "event_keyword",
    "header_name",
    "line_safe",
    "originate_value",
    "originate_variables",
    "regex_token",
    "rest_of_line",
    "scrub",
    "token",
    "uuid",
    "var_name",
]
