from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # "cli" (OS user), "api" (token name), "phone" (agent extension), "engine"
    name: str

    def __str__(self) -> str:  # what audit_log.actor and CDRs store, e.g. "api:crm"
        return f"{self.kind}:{self.name}"
