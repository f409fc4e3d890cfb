"""What the webhooks domain works with, built once by the app factory."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from socialseed.db import Database
from socialseed.platforms import Clock
from socialseed.runtime import Runtime
from webhooks.delivery.guard import Resolver
from webhooks.secrets import SecretCipher
from webhooks.settings import WebhooksSettings


@dataclass
class WebhooksContext:
    runtime: Runtime[WebhooksSettings]
    cipher: SecretCipher
    http: httpx.AsyncClient  # through the SSRF guard; redirects never followed
    resolver: Resolver  # host -> addresses (the guard's and the registration check's)
    clock: Clock
    rng: random.Random = field(default_factory=random.Random)

    @property
    def settings(self) -> WebhooksSettings:
        return self.runtime.settings

    @property
    def db(self) -> Database:
        return self.runtime.database
