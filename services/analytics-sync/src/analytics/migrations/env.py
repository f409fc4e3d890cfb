from analytics.models import Base
from socialseed.migrate import run_env

run_env(Base.metadata)
