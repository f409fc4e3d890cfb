"""One rate-budget engine for every service that calls the platforms.

- ``rules``: what a platform allows (``Rule``, declared once per platform by its provider as
  ``RateLimits``) and the pure window arithmetic (fixed, sliding, calendar, rolling windows).
- ``tables``: the ``budgets`` / ``budget_shares`` tables, described once; ``migration`` creates
  them in a service's schema.
- ``engine``: ``Budgets``, reservation before the call, the platform's signals after it, fair
  shares of app-wide budgets, all in PostgreSQL.
"""
