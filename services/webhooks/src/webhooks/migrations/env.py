from socialseed.migrate import run_env
from webhooks.models import Base

run_env(Base.metadata)
