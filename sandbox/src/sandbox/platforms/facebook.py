from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from sandbox.platforms.base import PlatformSpec

router = APIRouter()
SPEC = PlatformSpec("facebook", router, lambda: Response(status_code=429), lambda s: Response(status_code=s), lambda st, p: {})
