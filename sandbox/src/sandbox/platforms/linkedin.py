from fastapi import APIRouter
from fastapi.responses import Response

from sandbox.platforms.base import PlatformSpec

router = APIRouter()
SPEC = PlatformSpec(
    "linkedin",
    router,
    lambda: Response(status_code=429),
    lambda s: Response(status_code=s),
    lambda st, p: {},
)
