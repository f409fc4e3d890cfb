from socialseed.migrate import run_env
from tests.bus.schema import metadata

run_env(metadata)
