"""``python -m callcenter`` and the ``callcenter`` console script."""

from __future__ import annotations

import callcenter._gevent  # noqa: F401  (monkey-patch before anything else imports socket)


def main() -> None:
    from callcenter.cli import run

    run()


if __name__ == "__main__":
    main()
